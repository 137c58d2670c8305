"""Competitions (劳动和技能竞赛, "五小", 节能减排, 网上练兵, 工匠推选) and sign-ups.

Places are counted under a lock on the competition's row, so concurrent
sign-ups queue and a full competition is never oversold; a cancellation
promotes the first on the waitlist in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.aid import person_hash
from models.base import Base, utcnow
from models.crypto import EncryptedJSON
from models.orgs import within
from models.windows import SHANGHAI, on_day

CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
ENTRY_LABELS = {CONFIRMED: "已报名", WAITLISTED: "候补", CANCELLED: "已取消"}


class Competition(Base):
    __tablename__ = "competitions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # trade, innovation, proposal, online, nomination
    description: Mapped[str] = mapped_column(Text)
    opens: Mapped[str | None] = mapped_column(String(5), default=None)  # MM-DD, yearly
    closes: Mapped[str | None] = mapped_column(String(5), default=None)
    event_on: Mapped[str | None] = mapped_column(String(5), default=None)  # MM-DD
    event_time: Mapped[str] = mapped_column(String(16), default="09:00")
    place: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int | None] = mapped_column(default=None)  # None: unlimited
    per_unit: Mapped[int | None] = mapped_column(default=None)
    team: Mapped[bool] = mapped_column(default=False)
    # Sign-up fields, aliases, format and awards: data the union edits.
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    results: Mapped[str | None] = mapped_column(Text, default=None)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The data file's values as the last sync applied them (models.data_sync): a value
    # still equal to its snapshot is the file's to update; one that differs is staff's.
    synced: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class CompetitionEntry(Base):
    __tablename__ = "competition_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_code: Mapped[str] = mapped_column(ForeignKey("competitions.code"), index=True)
    follower_id: Mapped[int | None] = mapped_column(
        ForeignKey("followers.id", ondelete="SET NULL"), index=True
    )
    season: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    unit: Mapped[str] = mapped_column(String(100), default="")  # employer, for per-unit quotas
    # The worker's union organisation, matched from their employer (models.org_matching);
    # None when nobody recognised it: then only the county sees the sign-up.
    org_code: Mapped[str | None] = mapped_column(
        ForeignKey("union_orgs.code"), index=True, default=None
    )
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    # code:season:id_hash while the entry stands; cleared on cancel, so the
    # database refuses a second sign-up by the same person.
    person_key: Mapped[str | None] = mapped_column(String(160), unique=True, default=None)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    reminded_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    competition: Mapped[Competition] = relationship(lazy="joined")


def event_day(competition: Competition, season: int) -> dt.date | None:
    """The day the ``season``'s event is held, or None for contests without one."""
    if not competition.event_on:
        return None
    day = on_day(season, competition.event_on)
    if competition.opens and competition.event_on < competition.opens:
        day = on_day(season + 1, competition.event_on)  # the event falls in the next year
    return day


def event_start(competition: Competition, season: int) -> dt.datetime | None:
    day = event_day(competition, season)
    if day is None:
        return None
    hour, minute = (int(part) for part in competition.event_time.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def person_key(code: str, season: int, id_number: str) -> str:
    """What makes a sign-up unique while it stands: one per person, contest and season."""
    return f"{code}:{season}:{person_hash(id_number)}"


def competitions(session: Session, active_only: bool = True) -> list[Competition]:
    query = select(Competition).order_by(Competition.position, Competition.code)
    if active_only:
        query = query.where(Competition.active.is_(True))
    return list(session.scalars(query))


def lock_competition(session: Session, code: str) -> Competition | None:
    """The competition, locked until commit: sign-ups and cancellations take turns."""
    return session.get(Competition, code, with_for_update=True)


def count_entries(
    session: Session, code: str, season: int, status: str, unit: str | None = None
) -> int:
    query = (
        select(func.count())
        .select_from(CompetitionEntry)
        .where(
            CompetitionEntry.competition_code == code,
            CompetitionEntry.season == season,
            CompetitionEntry.status == status,
        )
    )
    if unit is not None:
        query = query.where(CompetitionEntry.unit == unit)
    return session.scalar(query) or 0


def unit_taken(session: Session, code: str, season: int, unit: str) -> int:
    """Places a unit (employer, folded) holds this season, waitlist included."""
    return sum(
        count_entries(session, code, season, status, unit=unit)
        for status in (CONFIRMED, WAITLISTED)
    )


def waitlist(session: Session, code: str, season: int) -> list[CompetitionEntry]:
    return list(
        session.scalars(
            select(CompetitionEntry)
            .where(
                CompetitionEntry.competition_code == code,
                CompetitionEntry.season == season,
                CompetitionEntry.status == WAITLISTED,
            )
            .order_by(CompetitionEntry.id)
        )
    )


def entries_of(session: Session, follower_id: int) -> list[CompetitionEntry]:
    return list(
        session.scalars(
            select(CompetitionEntry)
            .where(CompetitionEntry.follower_id == follower_id)
            .order_by(CompetitionEntry.id.desc())
        )
    )


def find_entry(session: Session, person_key: str) -> CompetitionEntry | None:
    return session.scalars(
        select(CompetitionEntry).where(CompetitionEntry.person_key == person_key)
    ).one_or_none()


def unreminded_entrants(session: Session, code: str, season: int) -> list[CompetitionEntry]:
    """Confirmed entrants of ``code`` this season who have not had their reminder."""
    return list(
        session.scalars(
            select(CompetitionEntry).where(
                CompetitionEntry.competition_code == code,
                CompetitionEntry.season == season,
                CompetitionEntry.status == CONFIRMED,
                CompetitionEntry.reminded_at.is_(None),
            )
        )
    )


def standing_counts(session: Session) -> dict[tuple[str, int, str], int]:
    """Confirmed and waitlisted entries per (competition code, season, status)."""
    rows = session.execute(
        select(
            CompetitionEntry.competition_code,
            CompetitionEntry.season,
            CompetitionEntry.status,
            func.count(),
        )
        .where(CompetitionEntry.status.in_((CONFIRMED, WAITLISTED)))
        .group_by(
            CompetitionEntry.competition_code, CompetitionEntry.season, CompetitionEntry.status
        )
    )
    return {(code, season, status): count for code, season, status, count in rows}


def entrants(
    session: Session, code: str, season: int, *, orgs: Collection[str] | None
) -> list[tuple[CompetitionEntry, int | None]]:
    """Confirmed entrants of ``orgs`` (None: all) in sign-up order, then those waiting in
    the order they are promoted, each with its place on the whole waitlist (None for a
    confirmed entrant): a town sees where its workers stand among everyone's."""
    confirmed = session.scalars(
        select(CompetitionEntry)
        .where(
            CompetitionEntry.competition_code == code,
            CompetitionEntry.season == season,
            CompetitionEntry.status == CONFIRMED,
            within(CompetitionEntry.org_code, orgs),
        )
        .order_by(CompetitionEntry.created_at, CompetitionEntry.id)
    )
    rows: list[tuple[CompetitionEntry, int | None]] = [(entry, None) for entry in confirmed]
    waiting = enumerate(waitlist(session, code, season), 1)
    rows += [(entry, n) for n, entry in waiting if orgs is None or entry.org_code in orgs]
    return rows
