"""Conversation logic: plain functions of (message, state) that return replies.

Nothing in this package imports Flask or speaks HTTP, so the same conversation
runs from the webhook, the terminal simulator and the tests.
"""

from handlers.applications import needs_info_reminders
from handlers.double_tap import is_double_tap
from handlers.messages import Inbound, Reply, Text
from handlers.router import route
from handlers.state import State
from models.conversation import get_conversation


def handle(message: Inbound, state: State) -> list[Reply]:
    """Route ``message`` and run its handler.

    A double tap (the same text again within seconds) is taken once. While staff
    wait for information on one of the worker's applications, a worker who is not
    in the middle of a form is reminded with every reply.
    """
    if is_double_tap(message, state):
        return []
    replies = route(message, state)(message, state)
    if (
        message.kind in ("text", "voice")
        and state.follower is not None
        and (state.prefetched is None or state.prefetched.needs_info)
        and get_conversation(state.session, state.follower.id) is None
    ):
        shown = "".join(reply.content for reply in replies)
        reminders = needs_info_reminders(state)
        replies += [text for ref, text in reminders.items() if ref not in shown]
    return replies


__all__ = ["Inbound", "Reply", "State", "Text", "handle"]
