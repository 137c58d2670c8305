"""Staff sign-in sessions kept in the database, so that they can be ended.

The cookie carries a random token; the database keeps only its SHA-256, so a copy
of the database (a backup, a read replica) cannot be used to sign in. A session
ends at sign-out, when its owner's password changes, when an admin disables the
account or ends its sessions, after ``idle`` without a request and after
``lifetime`` in all; a cookie replayed after any of these is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, created_at

if TYPE_CHECKING:  # models.staff ends sessions when a password is set, so it imports us
    from models.staff import StaffUser

# A request refreshes "last seen" at most this often: one write a minute per user, not
# one per page, while the idle timeout stays accurate to the minute.
TOUCH_EVERY = dt.timedelta(seconds=60)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[created_at]
    last_seen_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    address: Mapped[str] = mapped_column(String(64), default="")


@dataclass(frozen=True)
class SessionLimits:
    idle: dt.timedelta
    lifetime: dt.timedelta


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: StaffUser, now: dt.datetime, address: str = "") -> str:
    """Start a session for ``user``; return the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=_hash(token),
            staff_id=user.id,
            created_at=now,
            last_seen_at=now,
            address=address[:64],
        )
    )
    return token


def live_session(
    session: Session, token: str, now: dt.datetime, limits: SessionLimits
) -> StaffSession | None:
    """The session behind ``token`` if it is still valid, marked as seen ``now``."""
    row = session.scalars(
        select(StaffSession).where(StaffSession.token_hash == _hash(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if now - row.last_seen_at > limits.idle or now - row.created_at > limits.lifetime:
        row.revoked_at = now
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def revoke_token(session: Session, token: str, now: dt.datetime) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_sessions(
    session: Session, staff_id: int, now: dt.datetime, keep_token: str | None = None
) -> int:
    """End every open session of one staff member (but ``keep_token``'s); return how many."""
    query = update(StaffSession).where(
        StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None)
    )
    if keep_token is not None:
        query = query.where(StaffSession.token_hash != _hash(keep_token))
    return session.execute(query.values(revoked_at=now)).rowcount

