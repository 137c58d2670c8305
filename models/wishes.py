"""Workers who asked to be told when a programme or competition opens (``提醒我``).

Recorded when a worker asks out of season; the seasonal campaigns send the
notices and stamp ``notified_at``, so a wish is kept (not deleted) once it has
been answered and can be counted afterwards.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class ReminderWish(Base):
    __tablename__ = "reminder_wishes"
    __table_args__ = (
        # Exactly one of the two: a wish is about one programme or one competition.
        CheckConstraint(
            "(programme_code IS NULL) <> (competition_code IS NULL)", name="one_subject"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), index=True
    )
    programme_code: Mapped[str | None] = mapped_column(
        ForeignKey("aid_programmes.code"), index=True, default=None
    )
    competition_code: Mapped[str | None] = mapped_column(
        ForeignKey("competitions.code"), index=True, default=None
    )
    created_at: Mapped[dt.datetime]
    notified_at: Mapped[dt.datetime | None] = mapped_column(default=None)


def record_wish(
    session: Session,
    follower_id: int,
    now: dt.datetime,
    *,
    programme_code: str | None = None,
    competition_code: str | None = None,
) -> ReminderWish:
    """Record the wish once: asking again before it is answered adds nothing.

    Deliveries of one worker are serialised by the follower's lock, so looking
    first cannot race with the same worker asking twice at once."""
    waiting = session.scalars(
        select(ReminderWish).where(
            ReminderWish.follower_id == follower_id,
            ReminderWish.programme_code.is_(None)
            if programme_code is None
            else ReminderWish.programme_code == programme_code,
            ReminderWish.competition_code.is_(None)
            if competition_code is None
            else ReminderWish.competition_code == competition_code,
            ReminderWish.notified_at.is_(None),
        )
    ).first()
    if waiting is not None:
        return waiting
    wish = ReminderWish(
        follower_id=follower_id,
        programme_code=programme_code,
        competition_code=competition_code,
        created_at=now,
    )
    session.add(wish)
    session.flush()
    return wish


def waiting_wishes(session: Session) -> list[ReminderWish]:
    """Wishes not yet answered, oldest first (for the campaigns that send them)."""
    return list(
        session.scalars(
            select(ReminderWish)
            .where(ReminderWish.notified_at.is_(None))
            .order_by(ReminderWish.created_at, ReminderWish.id)
        )
    )
