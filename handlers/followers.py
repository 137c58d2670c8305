"""Follow and unfollow events."""

from __future__ import annotations

from handlers.menu import welcome
from handlers.messages import Inbound, Reply
from handlers.state import State
from models.follower import mark_subscribed, mark_unsubscribed
from models.subscription import record_choice

# Where each subscription-notice event keeps its per-template entries.
CHOICE_CONTAINERS = {
    "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
}


def subscribed(message: Inbound, state: State) -> list[Reply]:
    """Records a follow (or a return, keeping the QR scene) and welcomes the worker."""
    mark_subscribed(state.follower, state.now, scene=message.key or None)
    return welcome(message, state)


def unsubscribed(message: Inbound, state: State) -> list[Reply]:
    """Marks the follower unsubscribed; WeChat shows nothing to someone who just left."""
    mark_unsubscribed(state.follower, state.now)
    return []


def subscription_choices(message: Inbound, state: State) -> list[Reply]:
    """Records which subscription-notice templates the worker accepted or refused."""
    block = message.fields.get(CHOICE_CONTAINERS[message.event]) or {}
    entries = block.get("List", []) if isinstance(block, dict) else []
    for entry in entries if isinstance(entries, list) else [entries]:
        template_id = entry.get("TemplateId") if isinstance(entry, dict) else None
        if template_id:
            record_choice(
                state.session,
                state.follower.id,
                template_id,
                str(entry.get("SubscribeStatusString") or "").lower(),
                entry.get("PopupScene"),
                state.now,
            )
    return []
