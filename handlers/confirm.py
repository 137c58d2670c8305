"""One yes/no question about one thing (withdraw an application, cancel a sign-up).

The question is kept as a conversation, so the worker's next message answers
it; anything that is neither yes nor no drops the question and is routed as
usual. Each kind registers what yes and no do with the thing's id.
"""

from __future__ import annotations

from collections.abc import Callable

from handlers.forms import fold
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from models.conversation import end_conversation, save_conversation

FLOW = "confirm"
YES = {"是", "是的", "确定", "确认", "对", "1"}
NO = {"否", "不", "不是", "保留", "算了", "不用了", "2"}

Answer = Callable[[State, str], list[Reply]]
ANSWERS: dict[str, tuple[Answer, Answer]] = {}


def register(kind: str, yes: Answer, no: Answer) -> None:
    ANSWERS[kind] = (yes, no)


def ask(state: State, kind: str, subject: str, question: str) -> list[Reply]:
    """Ask ``question`` about ``subject`` (an id); the answer goes to ``kind``'s handlers."""
    data = {"step": "confirm", "kind": kind, "subject": subject}
    save_conversation(state.session, state.follower.id, FLOW, data, state.now)
    return [Text(f"{question}回复“是”确认，回复“否”保留。")]


def continue_confirm(message: Inbound, state: State) -> list[Reply] | None:
    data = state.conversation.data
    yes, no = ANSWERS[data["kind"]]
    answer = fold(message.text)
    end_conversation(state.session, state.conversation)
    state.conversation = None
    if answer in YES:
        return yes(state, data["subject"])
    if answer in NO:
        return no(state, data["subject"])
    return None
