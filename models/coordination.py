"""Coordination between processes through the database: leases, rate windows, the token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class Lease(Base):
    """A named lease: the scheduler's leader holds ``scheduler`` until it stops renewing."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime]


class RateWindow(Base):
    """Calls made to one WeChat API in one time window, by all drainers together."""

    __tablename__ = "rate_windows"

    api: Mapped[str] = mapped_column(String(32), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


class AccessToken(Base):
    """The one shared access token of an AppID, with its expiry."""

    __tablename__ = "access_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime]
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def try_hold_lease(session: Session, name: str, holder: str, seconds: float) -> bool:
    """Take or renew lease ``name`` for ``holder``; False while someone else holds it."""
    now = utcnow()
    expires = now + dt.timedelta(seconds=seconds)
    session.execute(
        _insert(session)(Lease)
        .values(name=name, holder=holder, expires_at=expires)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
        .values(holder=holder, expires_at=expires)
    )
    return bool(result.rowcount)


def release_lease(session: Session, name: str, holder: str) -> None:
    session.execute(
        update(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=utcnow() - dt.timedelta(seconds=1))
    )


def take_permits(session: Session, api: str, window: int, wanted: int, limit: int) -> int:
    """Reserve up to ``wanted`` calls to ``api`` in ``window``; return how many were granted."""
    session.execute(
        _insert(session)(RateWindow)
        .values(api=api, window=window, used=0)
        .on_conflict_do_nothing(index_elements=["api", "window"])
    )
    row = session.scalars(
        select(RateWindow)
        .where(RateWindow.api == api, RateWindow.window == window)
        .with_for_update()
    ).one()
    granted = max(0, min(wanted, limit - row.used))
    row.used += granted
    return granted
