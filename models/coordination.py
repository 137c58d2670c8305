"""Coordination between processes through the database: leases, rate windows, the token,
and a circuit breaker per WeChat API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


class Breaker(Base):
    """The circuit breaker of one WeChat API, shared by every drainer.

    Closed while ``opened_at`` is None. Open: no call before ``retry_at``; then
    one drainer takes the probe (``probe_until`` is its lease) and its result
    closes the breaker or sets the next, longer cool-down.
    """

    __tablename__ = "breakers"

    api: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)  # busy/network errors in a row
    opened_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    retry_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    probe_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    cooldown_seconds: Mapped[float] = mapped_column(default=0.0)
    probes: Mapped[int] = mapped_column(default=0)  # probes made while this opening lasts


@dataclass(frozen=True)
class BreakerState:
    """A breaker as read in one transaction."""

    api: str
    failures: int = 0
    opened_at: dt.datetime | None = None
    retry_at: dt.datetime | None = None
    cooldown_seconds: float = 0.0
    probes: int = 0

    @property
    def open(self) -> bool:
        return self.opened_at is not None


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


def _state(row: Breaker) -> BreakerState:
    return BreakerState(
        row.api, row.failures, row.opened_at, row.retry_at, row.cooldown_seconds, row.probes
    )


def _locked_breaker(session: Session, api: str) -> Breaker:
    session.execute(
        _insert(session)(Breaker)
        .values(api=api, failures=0, cooldown_seconds=0.0, probes=0)
        .on_conflict_do_nothing(index_elements=["api"])
    )
    row = session.scalars(select(Breaker).where(Breaker.api == api).with_for_update()).one()
    session.refresh(row)  # another drainer may have changed it while we waited for the lock
    return row


def breaker_states(session: Session) -> dict[str, BreakerState]:
    return {row.api: _state(row) for row in session.scalars(select(Breaker))}


def breaker_failed(
    session: Session, api: str, now: dt.datetime, threshold: int, cooldown: float
) -> tuple[BreakerState, bool]:
    """Count a busy/network error; open at ``threshold`` in a row. Return (state, opened now)."""
    row = _locked_breaker(session, api)
    row.failures += 1
    opened = row.opened_at is None and row.failures >= threshold
    if opened:
        row.opened_at, row.cooldown_seconds, row.probes = now, cooldown, 0
        row.retry_at, row.probe_until = now + dt.timedelta(seconds=cooldown), None
    return _state(row), opened


def take_breaker_probe(session: Session, api: str, now: dt.datetime, until: dt.datetime) -> bool:
    """Become the one caller allowed through an open breaker whose cool-down is over."""
    result = session.execute(
        update(Breaker)
        .where(
            Breaker.api == api,
            Breaker.opened_at.is_not(None),
            Breaker.retry_at <= now,
            Breaker.probe_until.is_(None) | (Breaker.probe_until < now),
        )
        .values(probe_until=until, probes=Breaker.probes + 1)
    )
    return bool(result.rowcount)


def release_breaker_probe(session: Session, api: str) -> None:
    """The probe made no call that tells anything (e.g. no token): let another take it."""
    session.execute(update(Breaker).where(Breaker.api == api).values(probe_until=None))


def breaker_probe_failed(
    session: Session, api: str, now: dt.datetime, cooldown_max: float
) -> BreakerState:
    """The probe met the outage: wait twice as long (up to ``cooldown_max``) for the next."""
    row = _locked_breaker(session, api)
    if row.opened_at is not None:
        row.cooldown_seconds = min(cooldown_max, row.cooldown_seconds * 2)
        row.retry_at = now + dt.timedelta(seconds=row.cooldown_seconds)
        row.probe_until = None
    return _state(row)


def close_breaker(session: Session, api: str) -> BreakerState | None:
    """A call succeeded: close the breaker; return it as it was if this closed it."""
    row = _locked_breaker(session, api)
    before = _state(row)
    row.failures, row.opened_at, row.retry_at, row.probe_until = 0, None, None, None
    row.cooldown_seconds, row.probes = 0.0, 0
    return before if before.open else None


def reset_breaker_failures(session: Session, api: str) -> None:
    """A call succeeded while the breaker was closed: the run of errors is broken."""
    session.execute(
        update(Breaker)
        .where(Breaker.api == api, Breaker.opened_at.is_(None), Breaker.failures > 0)
        .values(failures=0)
    )
