"""``人工``: a call back from staff, with what it is about and a number to call.

Staff cannot call a WeChat openid, and a call goes better when they know the
matter first. So the request is recorded at once (a worker who leaves now is
still called, on the number on file), and the reply asks in one message for
what it is about and, when none is on file, for a number; the worker's next
message fills in whichever it is. The reply also says when staff will call:
office hours come from ``[union] hours``.
"""

from __future__ import annotations

import re

from handlers.cues import SERVICE_WORDS
from handlers.messages import Inbound, Reply, Text
from handlers.office import call_back_time
from handlers.state import State
from handlers.text import fold, keyword
from models.conversation import end_conversation, save_conversation
from models.handoff import HandoffRequest, find_open_handoff, record_handoff
from models.masking import mask_phone

FLOW = "handoff"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# What goes with a number and is not the matter itself.
NUMBER_WORDS = re.compile(
    r"(?:我的)?(?:手机号码|手机号|手机|电话号码|电话|号码|联系方式)(?:是|：|:)?"
)
TOPIC = "人工服务"
# 人工 again: asked afresh (the router runs 人工 as usual), not taken as the matter.
ASK_AGAIN = frozenset({"人工", "人工服务", "客服", "转人工", "找人工", "真人"})
NOTE_LIMIT = 300
# Words that end the request instead of describing it.
NEVER_MIND = frozenset({"取消", "不用了", "不用", "算了", "不需要了", "不要了", "没事了", "没事"})


def when_line(state: State) -> str:
    union = state.settings.union
    return (
        f"工作人员会在{call_back_time(state)}给您回电（办公时间：{union.hours}）。"
        f"急事请拨打 {union.hotline}。"
    )


def staff_contact(message: Inbound, state: State) -> list[Reply]:
    """``人工``: record the request now, then ask what it is about (and for a number)."""
    request = record_handoff(state.session, state.follower.id, topic=TOPIC, now=state.now)
    data = {"step": "topic", "request": request.id}
    save_conversation(state.session, state.follower.id, FLOW, data, state.now)
    lines = ["已记录您的人工服务请求。请简单说一下是什么事（例如“工资被拖欠”），方便工作人员准备。"]
    if request.phone:
        lines.append(f"会打您留过的号码 {mask_phone(request.phone)}，要换号码请直接发新号码。")
    else:
        lines.append("也请发一个能接电话的手机号。")
    lines.append(when_line(state))
    return [Text("\n".join(lines))]


def continue_handoff(message: Inbound, state: State) -> list[Reply] | None:
    """Take the topic or the number; anything that is neither is routed as usual."""
    conversation = state.conversation
    request = state.session.get(HandoffRequest, conversation.data.get("request", 0))
    if request is None or request.handled_at is not None:
        request = find_open_handoff(state.session, state.follower.id)
    end_conversation(state.session, conversation)
    state.conversation = None
    if request is None or message.kind not in ("text", "voice") or not fold(message.text):
        return None
    text = fold(message.text)
    if keyword(text) in NEVER_MIND:
        request.handled_at, request.handled_by = state.now, "本人取消"
        return [Text("好的，已取消人工服务请求。有需要随时回复“人工”。")]
    number = MOBILE.search(re.sub(r"[\s-]", "", text))
    words = NUMBER_WORDS.sub("", re.sub(r"[\d\s-]{7,}", " ", text)).strip(" ，,。.：:")
    if number is None and (keyword(text) in SERVICE_WORDS or keyword(text) in ASK_AGAIN):
        return None
    if number is not None:
        request.phone = number.group()
    if len(words) >= 2:  # "工伤赔偿的事 电话13912345678": both at once
        request.note = words[:NOTE_LIMIT]
    return _acknowledge(state, request)


def _acknowledge(state: State, request: HandoffRequest) -> list[Reply]:
    lines = []
    if request.note:
        lines.append(f"好的，已记下：{request.note[:40]}{'…' if len(request.note) > 40 else ''}")
    if request.phone:
        lines.append(f"回电号码：{mask_phone(request.phone)}。")
    lines.append(when_line(state))
    if not request.phone:
        lines.append("还差一个能接电话的手机号，请直接发过来。")
    if not request.note:
        lines.append("是什么事？简单说一句就行。")
    if not (request.phone and request.note):
        save_conversation(
            state.session,
            state.follower.id,
            FLOW,
            {"step": "details", "request": request.id},
            state.now,
        )
    return [Text("\n".join(lines))]
