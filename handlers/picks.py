"""A numbered list the worker answers with a number (or "申请"/"报名" when one thing was
offered). What picking does for each kind of list is declared in :mod:`handlers.flows`."""

from __future__ import annotations

import logging

from handlers.messages import Inbound, Reply
from handlers.state import State
from handlers.text import fold
from handlers.vocabulary import GO
from models.conversation import end_conversation, save_conversation

FLOW = "pick"
log = logging.getLogger(__name__)


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
    if kind not in state.flows.picks:  # stored before a deploy that dropped the list
        log.error("list kind %r has no handler; routing as usual", kind)
        return None
    picked, go = state.flows.picks[kind]
    if text.isdecimal() and 1 <= int(text) <= len(codes):
        return picked(state, codes[int(text) - 1])
    if len(codes) == 1 and text in GO:
        return go(state, codes[0])
    return None
