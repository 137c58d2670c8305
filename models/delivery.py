"""Inbound deliveries: the exactly-once claim and the stored transcript, in one table.

Each row is one message or event as WeChat delivered it, its content and
reply encrypted (see :mod:`models.crypto`). Its ``dedupe_key`` is
unique, so a retry (or a concurrent copy on another worker) can never claim it
twice; the reply built for the first delivery is stored on the row and given
again to every retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, created_at, openid_str
from models.crypto import EncryptedJSON, EncryptedText
from models.follower import Follower, followers_within


class Delivery(Base):
    __tablename__ = "deliveries"
    # A worker's deliveries newest first (the double tap's previous delivery, the
    # transcript). With the follower alone, PostgreSQL walked the primary key backwards
    # past everyone else's deliveries since the worker's last message.
    __table_args__ = (Index("ix_deliveries_follower_latest", "follower_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    openid: Mapped[openid_str] = mapped_column(index=True)
    follower_id: Mapped[int | None] = mapped_column(
        ForeignKey("followers.id", ondelete="SET NULL"), default=None
    )
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64), default=None)
    # What workers type includes ID numbers, illnesses and addresses: encrypted at rest.
    content: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    wechat_msg_id: Mapped[int | None] = mapped_column(default=None)
    sent_at: Mapped[dt.datetime]
    received_at: Mapped[created_at]
    status: Mapped[str] = mapped_column(String(16), default="received")
    replies: Mapped[list[Any] | None] = mapped_column(EncryptedJSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)

    follower: Mapped[Follower | None] = relationship()


_INSERT = insert(Delivery.__table__)


def store_delivery(session: Session, **columns: Any) -> None:
    """Insert one delivery with its outcome, as a plain INSERT.

    The intake stores a delivery once, after its handler, and never touches the row
    again in that transaction: the unit of work's bookkeeping for a new object was
    the largest single cost of a message, and buys nothing here. A second copy of
    the same key fails on the unique ``dedupe_key`` (IntegrityError).
    """
    session.connection().execute(_INSERT, columns)


def find_delivery(session: Session, dedupe_key: str) -> Delivery | None:
    return session.scalars(select(Delivery).where(Delivery.dedupe_key == dedupe_key)).one_or_none()


def recent_deliveries(
    session: Session, limit: int = 50, *, orgs: Collection[str] | None
) -> list[Delivery]:
    """The newest messages from workers of ``orgs`` (None: all, system events included)."""
    query = select(Delivery).where(followers_within(Delivery.follower_id, orgs))
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


def previous_delivery(session: Session, follower_id: int) -> Delivery | None:
    """The follower's latest stored delivery: the one before the delivery being handled,
    which is stored together with its reply when the handler is done."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.follower_id == follower_id)
        .order_by(Delivery.id.desc())
        .limit(1)
    ).first()


def count_deliveries(
    session: Session, status: str | None = None, *, orgs: Collection[str] | None
) -> int:
    """Stored deliveries from workers of ``orgs`` (None: all), or only those with ``status``."""
    query = select(func.count()).select_from(Delivery)
    query = query.where(followers_within(Delivery.follower_id, orgs))
    if status is not None:
        query = query.where(Delivery.status == status)
    return session.scalar(query) or 0


def transcript(session: Session, follower_id: int, limit: int = 200) -> list[Delivery]:
    """Return a follower's messages, oldest first."""
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.follower_id == follower_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def purge_deliveries_before(session: Session, cutoff: dt.datetime) -> int:
    """Delete transcript rows received before ``cutoff``; return how many went."""
    result = session.execute(delete(Delivery).where(Delivery.received_at < cutoff))
    return result.rowcount or 0
