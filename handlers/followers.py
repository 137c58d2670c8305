"""Follow and unfollow events."""

from __future__ import annotations

from handlers.menu import welcome
from handlers.messages import Inbound, Reply
from handlers.state import State
from models.follower import mark_subscribed, mark_unsubscribed


def subscribed(message: Inbound, state: State) -> list[Reply]:
    """Records a follow (or a return, keeping the QR scene) and welcomes the worker."""
    mark_subscribed(state.follower, state.now, scene=message.key or None)
    return welcome(message, state)


def unsubscribed(message: Inbound, state: State) -> list[Reply]:
    """Marks the follower unsubscribed; WeChat shows nothing to someone who just left."""
    mark_unsubscribed(state.follower, state.now)
    return []
