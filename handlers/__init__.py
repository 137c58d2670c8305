"""Conversation logic: plain functions of (message, state) that return replies.

Nothing in this package imports Flask or speaks HTTP, so the same conversation
runs from the webhook, the terminal simulator and the tests.
"""

from handlers.messages import Inbound, Reply, Text
from handlers.router import route
from handlers.state import State


def handle(message: Inbound, state: State) -> list[Reply]:
    """Route ``message`` and run its handler."""
    return route(message, state)(message, state)


__all__ = ["Inbound", "Reply", "State", "Text", "handle"]
