"""Followers of the official account, and the per-user lock that serialises their messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, String, func, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column

from models.aid import AidApplication
from models.base import Base, created_at, openid_str, utcnow
from models.competition import CompetitionEntry


class Follower(Base):
    __tablename__ = "followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[openid_str] = mapped_column(unique=True)
    subscribed: Mapped[bool] = mapped_column(default=True)
    subscribe_scene: Mapped[str | None] = mapped_column(String(128), default=None)
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_interaction_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Why WeChat refuses messages to this follower (43004 not subscribed, 40003 bad openid).
    unreachable_reason: Mapped[str | None] = mapped_column(String(128), default=None)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<Follower {self.id} subscribed={self.subscribed}>"


def lock_follower(session: Session, openid: str) -> Follower:
    """Return the follower for ``openid``, created if new, locked until the transaction ends.

    Two deliveries for one worker must never interleave, whichever process or
    machine takes them. On PostgreSQL the row lock (``FOR UPDATE``) does it; the
    insert of a brand-new follower conflicts on the unique openid and waits for
    the first transaction, so it serialises as well. On SQLite the caller's
    transaction already holds the database write lock (``BEGIN IMMEDIATE``).
    """
    locked = select(Follower).where(Follower.openid == openid).with_for_update()
    follower = session.scalars(locked).one_or_none()
    if follower is not None:  # the usual case: one statement
        return follower
    return create_follower(session, openid) or session.scalars(locked).one()


def create_follower(
    session: Session, openid: str, interacted_at: dt.datetime | None = None
) -> Follower | None:
    """Insert and return the follower for ``openid``; None if a concurrent delivery just
    did (the conflict on the unique openid waits for that transaction, which serialises
    them, and the caller then reads the row it committed).

    A plain INSERT … RETURNING id, and the row we just wrote handed to the session as
    it is (``make_transient_to_detached``): the ORM's own INSERT of a new object, or
    reading the row back, cost more than the rest of a first message's intake.
    """
    values = {
        "openid": openid,
        "subscribed": True,
        "subscribe_scene": None,
        "subscribed_at": None,
        "unsubscribed_at": None,
        "last_interaction_at": interacted_at,
        "unreachable_reason": None,
        "is_demo": False,
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    new_id = session.connection().execute(_insert(dialect), values).scalar_one_or_none()
    if new_id is None:
        return None
    follower = Follower(id=new_id, **values)
    make_transient_to_detached(follower)
    session.add(follower)
    return follower


@cache
def _insert(dialect: str):
    table = Follower.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["openid"]).returning(table.c.id)


def mark_subscribed(follower: Follower, at: dt.datetime, scene: str | None) -> None:
    """Record a follow; a worker who comes back keeps their history and gets the new scene."""
    follower.subscribed = True
    follower.subscribed_at = at
    follower.unsubscribed_at = None
    follower.unreachable_reason = None
    if scene:
        follower.subscribe_scene = scene


def mark_unsubscribed(follower: Follower, at: dt.datetime) -> None:
    """Record an unfollow; the row stays, because applications and transcripts refer to it."""
    follower.subscribed = False
    follower.unsubscribed_at = at


def followers_within(column: Any, orgs: Collection[str] | None) -> ColumnElement[bool]:
    """A WHERE condition keeping rows whose ``column`` (a follower id) is a worker of one of
    ``orgs``: someone with an application or a sign-up there; None keeps every row.

    A follower no organisation knows (who only chatted, or whose union nobody matched) is
    the county's, like an application nobody matched."""
    if orgs is None:
        return true()
    codes = sorted(orgs)
    applied = select(AidApplication.follower_id).where(AidApplication.org_code.in_(codes))
    signed_up = select(CompetitionEntry.follower_id).where(CompetitionEntry.org_code.in_(codes))
    return or_(column.in_(applied), column.in_(signed_up))


def follower_within(session: Session, follower_id: int, orgs: Collection[str] | None) -> bool:
    query = select(Follower.id).where(
        Follower.id == follower_id, followers_within(Follower.id, orgs)
    )
    return session.scalar(query) is not None


def count_subscribed(session: Session, *, orgs: Collection[str] | None) -> int:
    """Followers of ``orgs`` (None: all) who still follow the account."""
    query = (
        select(func.count())
        .select_from(Follower)
        .where(Follower.subscribed, followers_within(Follower.id, orgs))
    )
    return session.scalar(query) or 0
