"""A double tap: the same text sent twice within seconds is one message.

When the bot is slow a worker taps send again; WeChat delivers both, with two
MsgIds, so exactly-once intake rightly keeps both. Taken twice, the second copy
answers the *next* question: "4" for the household size became a monthly income
of 4 元. The second copy is therefore taken as nothing (WeChat gets ``success``
and the worker sees the reply to the first). Someone who means the same answer
twice reads the next question first, which takes longer than the window
(``forms.double_tap_seconds``, 3 s by default).
"""

from __future__ import annotations

import datetime as dt

from handlers.messages import Inbound
from handlers.state import State
from handlers.text import fold
from models.delivery import previous_delivery

# A copy whose first was answered (or whose answer left through the outbox) is spent;
# after a failed first, the second is the worker trying again and is taken.
ANSWERED = ("handled", "deferred")


def is_double_tap(message: Inbound, state: State) -> bool:
    window = state.settings.forms.double_tap_seconds
    if window <= 0 or state.follower is None or message.kind not in ("text", "voice"):
        return False
    text = fold(message.text)
    previous = (
        state.prefetched.previous
        if state.prefetched is not None
        else previous_delivery(state.session, state.follower.id)
    )
    if not text or previous is None or previous.msg_type not in ("text", "voice"):
        return False
    if previous.status not in ANSWERED or fold(previous.content or "") != text:
        return False
    # WeChat's CreateTime says when the worker tapped; our own arrival time is the fallback.
    apart = (
        message.sent_at - previous.sent_at if previous.sent_at else state.now - previous.received_at
    )
    return abs(apart) <= dt.timedelta(seconds=window)
