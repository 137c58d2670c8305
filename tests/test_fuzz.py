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


# Lines a worker in a conversation plausibly sends, and random ones.
said = st.one_of(
    st.sampled_from(
        [
            "帮扶",
            "竞赛",
            "报名",
            "1",
            "2",
            "3",
            "同意",
            "不同意",
            "是",
            "否",
            "上一步",
            "重填",
            "取消",
            "人工",
            "继续",
            "完成",
            "跳过",
            "确认",
            "修改 2",
            "修改 99",
            "我的",
            "我的报名",
            "取消报名 1",
            "我的申请",
            "查询 SY-2026-000001",
            "撤回 SY-2026-000001",
            "补充 SY-2026-000001",
            "320924198503120022",
            "13812345678",
            "0",
            "-1",
            "大病救助要什么材料",
            "王秀梅",
        ]
    ),
    typed,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.tuples(said, st.integers(0, 4)), min_size=1, max_size=25))
def test_no_conversation_path_makes_a_handler_fail(app, lines):
    """Any sequence of messages (photos mixed in) gets real replies, never the apology
    a failing handler produces."""
    wechat = simulator_for(app)
    openid = f"o_walk{wechat.next_msg_id()}"
    for line, photo in lines:
        answer = (
            wechat.send_image(openid, f"M{wechat.next_msg_id()}")
            if photo == 0
            else wechat.send_text(openid, line)
        )
        assert answer.status == 200
        assert "系统暂时出了点问题" not in answer.text, (line, answer.text)
