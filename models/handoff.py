"""Requests to talk to a person (``人工``): kept so staff can call the worker back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime]
    handled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    handled_by: Mapped[str | None] = mapped_column(String(64), default=None)


def record_handoff(
    session: Session, follower_id: int, topic: str, now: dt.datetime
) -> HandoffRequest:
    """Record the request once: asking again while one is open adds nothing."""
    open_request = session.scalars(
        select(HandoffRequest).where(
            HandoffRequest.follower_id == follower_id, HandoffRequest.handled_at.is_(None)
        )
    ).first()
    if open_request is not None:
        open_request.topic = topic[:200]
        return open_request
    request = HandoffRequest(follower_id=follower_id, topic=topic[:200], requested_at=now)
    session.add(request)
    session.flush()
    return request


def open_handoffs(session: Session) -> list[HandoffRequest]:
    return list(
        session.scalars(
            select(HandoffRequest)
            .where(HandoffRequest.handled_at.is_(None))
            .order_by(HandoffRequest.requested_at)
        )
    )


def recent_handled(session: Session, limit: int = 50) -> list[HandoffRequest]:
    return list(
        session.scalars(
            select(HandoffRequest)
            .where(HandoffRequest.handled_at.is_not(None))
            .order_by(HandoffRequest.handled_at.desc())
            .limit(limit)
        )
    )
