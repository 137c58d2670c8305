"""A worker talking to the handlers directly, one message at a time, as a delivery would:
the conversation is read back from the database before every message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.config import Settings
from handlers import forms, router
from handlers.draft import Draft
from handlers.flows import Flows
from handlers.messages import Inbound, Reply
from handlers.state import State
from models import Follower
from models.conversation import find_conversation, get_conversation

# 10:00 in Beijing on a Tuesday.
NOW = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def text_of(replies: list[Reply] | None) -> str | None:
    return None if replies is None else "\n".join(reply.content for reply in replies)


class Chat:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        follower: Follower,
        flows: Flows,
        now: dt.datetime = NOW,
    ) -> None:
        self.session = session
        self.settings = settings
        self.follower = follower
        self.flows = flows
        self.now = now
        self.sent = now  # when the last message was sent

    def state(self) -> State:
        """What the intake hands a handler: the stored conversation, read afresh."""
        self.session.flush()  # what the last message changed, as its commit would
        self.session.expire_all()
        return State(
            follower=self.follower,
            conversation=get_conversation(self.session, self.follower.id),
            session=self.session,
            settings=self.settings,
            now=self.now,
            flows=self.flows,
        )

    def message(self, text: str = "", kind: str = "text", **fields) -> Inbound:
        return Inbound(
            openid=self.follower.openid, kind=kind, sent_at=self.now, text=text, **fields
        )

    def tick(self) -> None:
        """Messages take time: the next one comes a second later (unless :meth:`later` says).

        A draft saved twice at the same instant would not change ``updated_at``, and the
        column's ``onupdate`` would then stamp the wall clock instead of ``now``."""
        self.sent = self.now
        self.now += dt.timedelta(seconds=1)

    def later(self, **delta: float) -> Chat:
        """The next message comes ``delta`` after the last one."""
        self.now = self.sent + dt.timedelta(**delta)
        return self

    def form(self, text: str = "", kind: str = "text", **fields) -> str | None:
        """Give the message to the open form (handlers.forms.continue_form)."""
        state = self.state()
        assert state.conversation is not None, "no form is open"
        replies = forms.continue_form(self.message(text, kind, **fields), state)
        self.tick()
        return text_of(replies)

    def photo(self, media_id: str) -> str | None:
        return self.form(kind="image", media_id=media_id)

    def send(self, text: str = "", kind: str = "text", **fields) -> str:
        """Route the message as the webhook would (handlers.router.route) and run it."""
        state = self.state()
        message = self.message(text, kind, **fields)
        replies = router.route(message, state)(message, state)
        self.tick()
        return text_of(replies)

    def draft(self, flow: str) -> Draft | None:
        self.session.flush()
        self.session.expire_all()
        conversation = find_conversation(self.session, self.follower.id, flow)
        return None if conversation is None else Draft.from_data(conversation.data)
