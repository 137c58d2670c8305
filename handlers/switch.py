"""Starting a form while another of the same kind waits: ask before replacing it.

A worker has one draft per flow (one aid application, one sign-up), so opening
金秋助学 while a 困难职工帮扶 draft waits would silently throw away what they typed.
Workers do change their mind ("不对 我要申请的是金秋助学"), so the switch is
offered, and only a 是 replaces the draft.
"""

from __future__ import annotations

from handlers.draft import Draft
from handlers.messages import Reply, Text
from handlers.state import State
from models.conversation import find_conversation


def waiting_draft(state: State, flow: str) -> Draft | None:
    if state.follower is None:
        return None
    conversation = find_conversation(state.session, state.follower.id, flow)
    return None if conversation is None else Draft.from_data(conversation.data)


def already_open(draft: Draft) -> list[Reply]:
    """The form asked for is the one waiting: nothing to replace."""
    return [Text(f"您已经在填写{draft.title}了，填过的内容都在。")]


def question(draft: Draft, wanted: str) -> tuple[str, str]:
    """The question (and what 是 / 否 do) before replacing ``draft`` with ``wanted``."""
    return (
        f"您正在填写{draft.title}，要改为{wanted}吗？已填的内容不会保留。",
        f"回复“是”改为{wanted}，回复“否”接着填原来的。",
    )


def keep_draft(state: State, flow: str) -> list[Reply]:
    draft = waiting_draft(state, flow)
    if draft is None:
        return [Text("好的。")]
    return [Text(f"好的，{draft.title}保留，回复“继续”接着填。")]
