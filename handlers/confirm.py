"""One yes/no question about one thing (withdraw an application, cancel a sign-up).

The question is kept as a conversation, so the worker's next message answers
it; anything that is neither yes nor no drops the question and is routed as
usual. What yes and no do for each kind is declared in :mod:`handlers.flows`.
"""

from __future__ import annotations

import logging

from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from handlers.text import keyword
from handlers.vocabulary import KEEP, NO, YES
from models.conversation import end_conversation, save_conversation

FLOW = "confirm"
log = logging.getLogger(__name__)


def ask(
    state: State, kind: str, subject: str, question: str, how: str = "回复“是”确认，回复“否”保留。"
) -> list[Reply]:
    """Ask ``question`` about ``subject`` (an id); the answer goes to ``kind``'s handlers.

    ``how`` says what 是 and 否 do, in the words of the question ("回复“是”补交")."""
    data = {"step": "confirm", "kind": kind, "subject": subject}
    save_conversation(state.session, state.follower.id, FLOW, data, state.now)
    return [Text(f"{question}{how}")]


def continue_confirm(message: Inbound, state: State) -> list[Reply] | None:
    data = state.conversation.data
    answer = keyword(message.text)
    end_conversation(state.session, state.conversation)
    state.conversation = None
    if data["kind"] not in state.flows.confirms:  # stored before a deploy that dropped it
        log.error("question kind %r has no handler; routing as usual", data["kind"])
        return None
    yes, no = state.flows.confirms[data["kind"]]
    if answer in YES:
        return yes(state, data["subject"])
    if answer in NO or answer in KEEP:
        return no(state, data["subject"])
    return None
