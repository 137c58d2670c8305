"""The worker's state as handlers see it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from models import Conversation, Follower
from models.intake_read import IntakeRead
from models.windows import local_today

if TYPE_CHECKING:  # handlers read settings but never import the Flask side at run time
    from bot.config import Settings
    from handlers.flows import Flows


@dataclass
class State:
    """Everything a handler may read or change for one delivery.

    ``session`` is inside the delivery's transaction and the follower's lock:
    what a handler writes commits together with the stored reply, or not at all.
    """

    follower: Follower | None
    conversation: Conversation | None
    session: Session
    settings: Settings
    now: dt.datetime
    # The conversations that may be waiting for this message (handlers.flows.build()).
    flows: Flows
    # Set by a form that let a question pass (handlers.asides): the question it still
    # asks, which the router shows after answering the worker's.
    pending_question: str | None = None
    # What the intake read together with the follower's lock (models.intake_read). None
    # when the state was built without it; handlers then read for themselves.
    prefetched: IntakeRead | None = None

    @property
    def today(self) -> dt.date:
        """The union's calendar day (Beijing time) of this delivery."""
        return local_today(self.now)
