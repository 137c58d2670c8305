"""A numbered list the worker answers with a number (or "申请"/"报名" when one thing was
offered). Each kind of list registers what picking an entry does."""

from __future__ import annotations

from collections.abc import Callable

from handlers.forms import fold
from handlers.messages import Inbound, Reply
from handlers.state import State
from models.conversation import end_conversation, save_conversation

FLOW = "pick"
GO_WORDS = {"申请", "报名", "开始", "开始申请", "我要申请", "我要报名", "好", "好的", "是", "要"}

Picked = Callable[[State, str], list[Reply]]
# kind → (what a number does, what the go-word on a single offer does)
PICKED: dict[str, tuple[Picked, Picked]] = {}


def register(kind: str, picked: Picked, go: Picked | None = None) -> None:
    PICKED[kind] = (picked, go or picked)


def offer(state: State, kind: str, codes: list[str]) -> None:
    """Remember what the worker's next number (or go-word for a single offer) picks."""
    data = {"step": "pick", "kind": kind, "codes": codes}
    save_conversation(state.session, state.follower.id, FLOW, data, state.now)


def continue_pick(message: Inbound, state: State) -> list[Reply] | None:
    """Run the pick, or let the message be routed as usual; either way the offer ends."""
    data = state.conversation.data
    codes, kind = data.get("codes", []), data.get("kind", "")
    text = fold(message.text)
    end_conversation(state.session, state.conversation)
    state.conversation = None
    picked, go = PICKED[kind]
    if text.isdecimal() and 1 <= int(text) <= len(codes):
        return picked(state, codes[int(text) - 1])
    if len(codes) == 1 and text in GO_WORDS:
        return go(state, codes[0])
    return None
