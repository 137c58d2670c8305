"""Whatever a worker sends, the webhook answers with well-formed XML, never a 500."""

from __future__ import annotations

import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import Delivery
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


# --- signed but hostile bodies ------------------------------------------------------

FIELD_NAMES = st.sampled_from(
    [
        "ToUserName",
        "FromUserName",
        "CreateTime",
        "MsgType",
        "Content",
        "MsgId",
        "Event",
        "EventKey",
        "MediaId",
        "Recognition",
        "Location_X",
        "Label",
        "Url",
        "Scale",
        "Odd",
    ]
)
MSG_TYPES = st.sampled_from(["text", "image", "voice", "event", "location", "link", "x" * 40, ""])
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str), st.sampled_from(["9999999999999", "1e9", "0x10", ""])
)
SCALARS = st.one_of(typed, NUMBERS, st.text("ab你好", min_size=60, max_size=300))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def hostile_element(draw, depth: int = 0) -> str:
    name = draw(FIELD_NAMES)
    shape = draw(st.sampled_from(["text", "cdata", "attributes", "nested", "repeated", "empty"]))
    value = draw(SCALARS)
    if shape == "cdata":
        return f"<{name}><![CDATA[{value.replace(']]>', '')}]]></{name}>"
    if shape == "attributes":
        return f'<{name} kind="x">{_escape(value)}</{name}>'
    if shape == "nested" and depth < 3:
        return f"<{name}>{draw(hostile_element(depth + 1))}</{name}>"
    if shape == "repeated":
        return f"<{name}>{_escape(value)}</{name}>" * 2
    if shape == "empty":
        return f"<{name}/>"
    return f"<{name}>{_escape(value)}</{name}>"


@st.composite
def hostile_body(draw) -> bytes:
    openid = draw(st.one_of(st.just("o_hostile"), st.text("o_x", min_size=60, max_size=90)))
    parts = [
        f"<ToUserName>gh_unionbot_demo</ToUserName><FromUserName>{openid}</FromUserName>",
        f"<MsgType>{draw(MSG_TYPES)}</MsgType>",
        *draw(st.lists(hostile_element(), max_size=6)),
    ]
    if draw(st.booleans()):
        deep = draw(st.integers(5, 3000))
        parts.append("<Odd>" * deep + "x" + "</Odd>" * deep)
    body = "<xml>" + "".join(draw(st.permutations(parts))) + "</xml>"
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "gbk"]))
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding != "utf-8" else ""
    raw = (declaration + body).encode(encoding, errors="replace")
    if draw(st.booleans()):  # a byte-level mutation: truncation or a flipped byte
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + bytes([draw(st.integers(0, 255))]) + raw[cut + 1 :]
    return raw


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=hostile_body())
def test_signed_hostile_bodies_never_get_a_5xx_or_half_a_delivery(app, body):
    """Signed with our token, yet malformed: a clear 4xx, or a normal answer; never a 500,
    and a refused body leaves no row behind."""
    runtime = app.extensions["unionbot"]
    with runtime.session_factory() as session:
        before = session.scalar(select(func.count()).select_from(Delivery))
    answer = simulator_for(app).deliver(body)
    assert answer.status in (200, 400, 413), (answer.status, answer.body[:200])
    with runtime.session_factory() as session:
        after = session.scalar(select(func.count()).select_from(Delivery))
    # A 200 stores the delivery once (a repeat of an earlier body stores nothing new).
    assert after - before in ((0, 1) if answer.status == 200 else (0,))
