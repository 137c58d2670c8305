"""Requests to talk to a person (``人工``): kept so staff can call the worker back.

Each request carries what it is about (the form the worker was in, or their own
words) and the number to call: the one they gave, or the latest on file from their
applications, sign-ups or the form they are filling in. Both are personal data and
encrypted at rest; the admin shows the number masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.aid import AidApplication
from models.base import Base
from models.competition import CompetitionEntry
from models.conversation import Conversation
from models.crypto import EncryptedText
from models.follower import followers_within


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(200))
    # The worker's own words about what they need, and the number to call back.
    note: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    phone: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    requested_at: Mapped[dt.datetime]
    handled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    handled_by: Mapped[str | None] = mapped_column(String(64), default=None)


def phone_on_file(session: Session, follower_id: int) -> str | None:
    """The mobile number the worker gave most recently: in a form they are filling in,
    an application or a sign-up; None if they never gave one."""
    found: list[tuple[dt.datetime, str]] = []
    for model, when in (
        (Conversation, Conversation.updated_at),
        (AidApplication, AidApplication.submitted_at),
        (CompetitionEntry, CompetitionEntry.created_at),
    ):
        rows = session.scalars(select(model).where(model.follower_id == follower_id))
        for row in rows:
            data = row.data if model is Conversation else row.answers
            answers = data.get("answers", {}) if model is Conversation else data
            phone = answers.get("phone") if isinstance(answers, dict) else None
            if isinstance(phone, str) and phone:
                found.append((getattr(row, when.key), phone))
    return max(found)[1] if found else None


def record_handoff(
    session: Session,
    follower_id: int,
    topic: str,
    now: dt.datetime,
    phone: str | None = None,
) -> HandoffRequest:
    """Record the request once: asking again while one is open adds nothing.

    Without ``phone``, the number on file is kept with the request, so staff
    know whom to call even when the worker leaves before giving one."""
    phone = phone or phone_on_file(session, follower_id)
    open_request = find_open_handoff(session, follower_id)
    if open_request is not None:
        open_request.topic = topic[:200]
        open_request.phone = phone or open_request.phone
        return open_request
    request = HandoffRequest(
        follower_id=follower_id, topic=topic[:200], requested_at=now, phone=phone
    )
    session.add(request)
    session.flush()
    return request


def find_open_handoff(session: Session, follower_id: int) -> HandoffRequest | None:
    return session.scalars(
        select(HandoffRequest).where(
            HandoffRequest.follower_id == follower_id, HandoffRequest.handled_at.is_(None)
        )
    ).first()


def open_handoffs(session: Session, *, orgs: Collection[str] | None) -> list[HandoffRequest]:
    """Call-backs still to make, for workers of ``orgs`` (None: all)."""
    return list(
        session.scalars(
            select(HandoffRequest)
            .where(
                HandoffRequest.handled_at.is_(None),
                followers_within(HandoffRequest.follower_id, orgs),
            )
            .order_by(HandoffRequest.requested_at)
        )
    )


def recent_handled(
    session: Session, limit: int = 50, *, orgs: Collection[str] | None
) -> list[HandoffRequest]:
    return list(
        session.scalars(
            select(HandoffRequest)
            .where(
                HandoffRequest.handled_at.is_not(None),
                followers_within(HandoffRequest.follower_id, orgs),
            )
            .order_by(HandoffRequest.handled_at.desc())
            .limit(limit)
        )
    )
