"""The reply budget counts from when the request arrived (the proxy's X-Request-Start),
not from when a server worker took it: time spent queued counts against WeChat's 5 s."""

from __future__ import annotations

import time

import pytest

from bot.webhook import waited_seconds
from tests.bot.outbox_support import drainer_for, texts_sent
from tests.conftest import simulator_for

NOW = 1_764_460_800.0


@pytest.mark.parametrize(
    ("header", "waited"),
    [
        ("t=1764460795.500", 4.5),  # nginx: t=${msec}
        ("t=1764460795500000", 4.5),  # Apache: t=%t, microseconds
        ("t=1764460795500", 4.5),  # milliseconds
        ("1764460799", 1.0),  # no t=
        ("t=1764460805", 0.0),  # the proxy's clock is ahead: no wait
        ("t=soon", 0.0),
        (None, 0.0),
    ],
)
def test_the_wait_is_read_from_each_format(header, waited):
    assert waited_seconds(header, NOW) == pytest.approx(waited)


def test_a_request_that_waited_past_the_budget_is_answered_success_and_the_reply_follows_once(
    app, fake
):
    wechat = simulator_for(app)
    fake.set_user("o_queued")
    params, body = wechat.signed_params(wechat.text_xml("o_queued", "你好", msg_id=515151))
    late = {"X-Request-Start": f"t={time.time() - 4.5:.3f}"}

    def deliver():
        client = app.test_client()
        return client.post("/wechat", query_string=params, data=body, headers=late)

    # The request waited 4.5 s in the queue: over the 4 s budget before any work starts.
    assert deliver().get_data() == b"success"
    # WeChat's retry of it is answered the same and starts nothing again.
    assert deliver().get_data() == b"success"
    app.extensions["unionbot"].executor.shutdown(wait=True)
    drainer_for(app).drain_until_empty()
    [sent] = texts_sent(fake)
    assert sent.startswith("您好！有什么可以帮您？")


def test_a_request_that_waited_briefly_gets_its_reply_passively(app, fake):
    wechat = simulator_for(app)
    params, body = wechat.signed_params(wechat.text_xml("o_prompt", "你好"))
    headers = {"X-Request-Start": f"t={time.time() - 0.5:.3f}"}
    answer = app.test_client().post("/wechat", query_string=params, data=body, headers=headers)
    assert wechat.read_reply(answer.status_code, answer.get_data())["Content"]
    assert texts_sent(fake) == []
