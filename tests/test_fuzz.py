"""Whatever a worker sends, the webhook answers with well-formed XML, never a 500."""

from __future__ import annotations

import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import simulator_for

typed = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=typed, kind=st.sampled_from(["text", "voice", "location", "link"]))
def test_any_input_gets_a_well_formed_reply(app, text, kind):
    wechat = simulator_for(app)
    fields = {
        "text": {"Content": text},
        "voice": {"MediaId": "V", "Format": "amr", "Recognition": text},
        "location": {"Location_X": 33.7, "Location_Y": 120.2, "Scale": 15, "Label": text},
        "link": {"Title": text, "Description": text, "Url": "https://example.org"},
    }[kind]
    answer = wechat.deliver(wechat.xml("o_fuzz", kind, MsgId=wechat.next_msg_id(), **fields))
    assert answer.status == 200
    reply = xmltodict.parse(answer.body)["xml"]
    assert reply["ToUserName"] == "o_fuzz" and reply["Content"]
