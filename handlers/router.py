"""Pick the handler for a delivery: events by name, menu keys and keywords, then the fallback.

Selection only reads the message and state; running the handler is the
caller's job, so the same routing serves the webhook, the simulator and tests.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from handlers import followers, menu
from handlers.messages import (
    CLICK,
    LOCATION,
    MASS_JOB_FINISH,
    SCAN,
    SUBSCRIBE,
    SUBSCRIBE_SCAN,
    TEMPLATE_JOB_FINISH,
    UNSUBSCRIBE,
    VIEW,
    Inbound,
    Reply,
)
from handlers.state import State

Handler = Callable[[Inbound, State], list[Reply]]


def no_reply(message: Inbound, state: State) -> list[Reply]:
    """Acknowledges an event that needs no answer (WeChat gets ``success``)."""
    return []


EVENTS: dict[str, Handler] = {
    SUBSCRIBE: followers.subscribed,
    SUBSCRIBE_SCAN: followers.subscribed,
    UNSUBSCRIBE: followers.unsubscribed,
    SCAN: menu.welcome,
    VIEW: no_reply,
    LOCATION: no_reply,
    TEMPLATE_JOB_FINISH: no_reply,
    MASS_JOB_FINISH: no_reply,
    **dict.fromkeys(followers.CHOICE_CONTAINERS, followers.subscription_choices),
}

MESSAGES: dict[str, Handler] = {
    "image": menu.media_outside_form,
    "video": menu.media_outside_form,
    "shortvideo": menu.media_outside_form,
    "location": menu.location_received,
    "link": menu.link_received,
}

KEYWORDS: dict[str, Handler] = {
    "帮助": menu.show_menu,
    "菜单": menu.show_menu,
    "?": menu.show_menu,
    "help": menu.show_menu,
    "人工": menu.staff_contact,
    "帮扶": menu.offline_service,
    "竞赛": menu.offline_service,
    "普惠": menu.offline_service,
    "我的": menu.offline_service,
}
# The menu's numbers stand for its keywords.
KEYWORDS.update({number: KEYWORDS[keyword] for number, keyword, _ in menu.SERVICES})


def normalise(text: str) -> str:
    """Fold what phone keyboards produce: full-width letters, digits and ？, spaces, case."""
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    return folded.rstrip("。.!！")


def route(message: Inbound, state: State) -> Handler:
    """Return the handler for ``message``."""
    if message.is_event:
        if message.event == CLICK:
            return route_keyword(menu.MENU_KEYS.get(message.key, ""))
        return EVENTS.get(message.event, no_reply)
    if message.kind == "voice" and not message.text:
        return menu.voice_not_recognised
    if message.kind in ("text", "voice"):
        return route_keyword(message.text)
    return MESSAGES.get(message.kind, menu.unsupported)


def route_keyword(text: str) -> Handler:
    return KEYWORDS.get(normalise(text), menu.not_understood)
