"""What handlers receive and return: plain data, independent of WeChat's XML and of HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Event names as WeChat sends them, lower-cased.
SUBSCRIBE = "subscribe"
SUBSCRIBE_SCAN = "subscribe_scan"
UNSUBSCRIBE = "unsubscribe"
SCAN = "scan"
CLICK = "click"
VIEW = "view"
LOCATION = "location"
TEMPLATE_JOB_FINISH = "templatesendjobfinish"
MASS_JOB_FINISH = "masssendjobfinish"

# Events sent by WeChat's own systems rather than by a worker's action: they
# neither open the 48-hour customer-service window nor belong to a follower.
SYSTEM_EVENTS = frozenset({TEMPLATE_JOB_FINISH, MASS_JOB_FINISH})
# Events that WeChat counts as a worker interacting with the account.
INTERACTIVE_EVENTS = frozenset({SUBSCRIBE, SUBSCRIBE_SCAN, SCAN, CLICK, VIEW})
# Events whose passive reply the worker sees in the chat (a VIEW opens a web page instead).
REPLYABLE_EVENTS = frozenset({SUBSCRIBE, SUBSCRIBE_SCAN, SCAN, CLICK})


@dataclass(frozen=True)
class Inbound:
    """One message or event from a worker.

    ``kind`` is WeChat's MsgType (``text``, ``image``, ``voice``, ``event`` ...,
    or ``unknown``); ``text`` holds what the worker said: typed text, or the
    speech recognition of a voice message; ``key`` is an event's EventKey (a
    menu key, a QR scene).
    """

    openid: str
    kind: str
    sent_at: dt.datetime
    text: str = ""
    event: str = ""
    key: str = ""
    media_id: str = ""
    msg_id: int = 0
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def is_event(self) -> bool:
        return self.kind == "event"

    @property
    def shows_reply(self) -> bool:
        """Whether the worker sees a passive reply to this delivery."""
        return not self.is_event or self.event in REPLYABLE_EVENTS

    @property
    def is_interaction(self) -> bool:
        """Whether WeChat opens the 48-hour customer-service window on this delivery."""
        return not self.is_event or self.event in INTERACTIVE_EVENTS


@dataclass(frozen=True)
class Text:
    """A text reply to the worker."""

    content: str

    def to_dict(self) -> dict[str, str]:
        return {"type": "text", "content": self.content}


Reply = Text


def replies_from_dicts(rows: list[dict[str, Any]] | None) -> list[Reply]:
    return [Text(row["content"]) for row in rows or [] if row.get("type") == "text"]
