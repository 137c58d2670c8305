"""Aid programmes, applications, their history and proofs.

An application's answers are encrypted as a whole; what must be matched
without decrypting (one open application per person, programme and season;
one 金秋助学 award per child) is held as keyed hashes in unique columns that
are cleared when the application ends without aid, so the database itself
refuses a duplicate even when two submissions race.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import ForeignKey, String, Text, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, created_at, utcnow
from models.crypto import EncryptedJSON, EncryptedText, lookup_hash
from models.orgs import UnionOrg, within
from models.windows import Window, window_on

SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
NEEDS_INFO = "needs_info"
APPROVED = "approved"
REJECTED = "rejected"
PAID = "paid"
WITHDRAWN = "withdrawn"

STATUS_LABELS = {
    "draft": "草稿",
    SUBMITTED: "已提交，待审核",
    UNDER_REVIEW: "审核中",
    NEEDS_INFO: "需补充材料",
    APPROVED: "审核通过",
    REJECTED: "未通过",
    PAID: "已发放",
    WITHDRAWN: "已撤回",
}
# Who may move an application from one status to the next.
TRANSITIONS: dict[str, dict[str, str]] = {
    SUBMITTED: {
        UNDER_REVIEW: "staff",
        NEEDS_INFO: "staff",
        APPROVED: "staff",
        REJECTED: "staff",
        WITHDRAWN: "worker",
    },
    UNDER_REVIEW: {NEEDS_INFO: "staff", APPROVED: "staff", REJECTED: "staff", WITHDRAWN: "worker"},
    NEEDS_INFO: {UNDER_REVIEW: "worker", REJECTED: "staff", WITHDRAWN: "worker"},
    APPROVED: {PAID: "staff"},
}
UNDECIDED = frozenset({SUBMITTED, UNDER_REVIEW, NEEDS_INFO})
# Ending without aid frees the person (and child) to apply again this season.
RELEASES = frozenset({REJECTED, WITHDRAWN})


class AidProgramme(Base):
    """A programme as the union runs it; ``definition`` holds its form, proofs and texts."""

    __tablename__ = "aid_programmes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opens: Mapped[str | None] = mapped_column(String(5), default=None)  # MM-DD, local time
    closes: Mapped[str | None] = mapped_column(String(5), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The data file's values as the last sync applied them (models.data_sync): a value
    # still equal to its snapshot is the file's to update; one that differs is staff's.
    synced: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    def window(self, today: dt.date) -> Window:
        return window_on(self.opens, self.closes, today)


class AidApplication(Base):
    __tablename__ = "aid_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    programme_code: Mapped[str] = mapped_column(ForeignKey("aid_programmes.code"), index=True)
    follower_id: Mapped[int | None] = mapped_column(
        ForeignKey("followers.id", ondelete="SET NULL"), index=True
    )
    season: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=SUBMITTED, index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    grade: Mapped[str | None] = mapped_column(String(16), default=None)
    publicity_consent: Mapped[bool] = mapped_column(default=False)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    open_key: Mapped[str | None] = mapped_column(String(160), unique=True, default=None)
    child_key: Mapped[str | None] = mapped_column(String(160), unique=True, default=None)
    # The capped choice this application takes a unit of (夏送清凉's pickup station);
    # plain text so places can be counted without decrypting the answers.
    allotment: Mapped[str | None] = mapped_column(String(64), default=None)
    # The worker's union organisation, matched from their answers (models.org_matching);
    # None when nobody recognised it: then only the county sees the application.
    org_code: Mapped[str | None] = mapped_column(
        ForeignKey("union_orgs.code"), index=True, default=None
    )
    submitted_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    programme: Mapped[AidProgramme] = relationship(lazy="joined")
    org: Mapped[UnionOrg | None] = relationship(lazy="joined")
    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id"
    )
    proofs: Mapped[list[ApplicationProof]] = relationship(order_by="ApplicationProof.id")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def undecided(self) -> bool:
        return self.status in UNDECIDED


class ApplicationEvent(Base):
    """One status change: when, by whom (worker, staff:<name>, system) and why."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("aid_applications.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(EncryptedText, default=None)
    at: Mapped[created_at]

    application: Mapped[AidApplication] = relationship(back_populates="events")


class ApplicationProof(Base):
    """A photo sent as proof; the file itself is a :class:`~models.MediaFile` once fetched."""

    __tablename__ = "application_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("aid_applications.id", ondelete="CASCADE"), index=True
    )
    media_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[dt.datetime]


class ReferenceCounter(Base):
    """The last reference number handed out per year."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


def next_reference(session: Session, prefix: str, year: int) -> str:
    """``SY-2026-000123``: sequential per year, never handed out twice.

    The UPDATE locks the year's counter row until the delivery commits, so
    concurrent submissions queue on it instead of reading the same number.
    """
    bump = (
        update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is None:
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(year=year, last=1))
            number = 1
        except IntegrityError:  # another submission created the year's row first
            number = session.execute(bump).scalar_one()
    return f"{prefix}-{year}-{number:06d}"


def person_hash(id_number: str) -> str:
    return lookup_hash("id_number", id_number.upper())


def open_key(programme_code: str, season: int, id_number: str) -> str:
    return f"{programme_code}:{season}:{person_hash(id_number)}"


def child_key(programme_code: str, season: int, child_id_number: str) -> str:
    return f"{programme_code}:{season}:child:{person_hash(child_id_number)}"


def find_by_key(session: Session, column: Any, key: str) -> AidApplication | None:
    return session.scalars(select(AidApplication).where(column == key)).one_or_none()


def allotted(session: Session, programme_code: str, season: int) -> dict[str, int]:
    """Units taken per capped choice this season; a rejected or withdrawn one frees its unit."""
    rows = session.execute(
        select(AidApplication.allotment, func.count())
        .where(
            AidApplication.programme_code == programme_code,
            AidApplication.season == season,
            AidApplication.allotment.is_not(None),
            AidApplication.status.not_in(RELEASES),
        )
        .group_by(AidApplication.allotment)
    )
    return dict(rows.all())


def quota_usage(
    session: Session, programme: AidProgramme, season: int
) -> list[tuple[str, int, int]]:
    """(choice, limit, taken) for each capped choice this season; empty when uncapped."""
    quota = programme.definition.get("quota")
    if not quota:
        return []
    taken = allotted(session, programme.code, season)
    return [(choice, limit, taken.get(choice, 0)) for choice, limit in quota["limits"].items()]


def places_left(session: Session, programme: AidProgramme, season: int) -> dict[str, int] | None:
    """Units left per capped choice this season, or None when the programme has no cap."""
    usage = quota_usage(session, programme, season)
    return {choice: limit - taken for choice, limit, taken in usage} if usage else None


_HELD_KEY = "unionbot.programmes"


@event.listens_for(Session, "after_transaction_end")
def _let_programmes_go(session: Session, transaction) -> None:
    # Held for one transaction: a session that lives on reads them afresh next time.
    if transaction.parent is None:
        session.info.pop(_HELD_KEY, None)


def programmes(session: Session, active_only: bool = True) -> list[AidProgramme]:
    query = select(AidProgramme).order_by(AidProgramme.position, AidProgramme.code)
    if active_only:
        query = query.where(AidProgramme.active.is_(True))
    return list(session.scalars(query))


def get_programme(session: Session, code: str) -> AidProgramme | None:
    """The programme, held by the session: its identity map holds objects weakly, and a
    form's answer looks the programme up twice (the form, then the answer's check)."""
    programme = session.get(AidProgramme, code)
    if programme is not None:
        session.info.setdefault(_HELD_KEY, {})[code] = programme
    return programme


def applications_of(session: Session, follower_id: int) -> list[AidApplication]:
    return list(
        session.scalars(
            select(AidApplication)
            .where(AidApplication.follower_id == follower_id)
            .order_by(AidApplication.id.desc())
        )
    )


def find_application(session: Session, reference: str, lock: bool = False) -> AidApplication | None:
    """``lock``: hold the row until commit (two reviewers deciding at once take turns).
    ``of=`` because PostgreSQL will not lock the outer join that loads the programme."""
    query = select(AidApplication).where(AidApplication.reference == reference.upper())
    if lock:
        query = query.with_for_update(of=AidApplication)
    return session.scalars(query).one_or_none()


def list_applications(
    session: Session,
    statuses: Iterable[str] | None = None,
    programme_code: str | None = None,
    offset: int = 0,
    limit: int = 50,
    *,
    orgs: Collection[str] | None,
) -> list[AidApplication]:
    """Newest first, of the organisations ``orgs`` (None: all, unmatched included),
    optionally only some statuses or one programme."""
    query = select(AidApplication).where(within(AidApplication.org_code, orgs))
    if statuses is not None:
        query = query.where(AidApplication.status.in_(list(statuses)))
    if programme_code:
        query = query.where(AidApplication.programme_code == programme_code)
    query = query.order_by(AidApplication.submitted_at.desc(), AidApplication.id.desc())
    return list(session.scalars(query.offset(offset).limit(limit)))


def count_undecided(session: Session, *, orgs: Collection[str] | None) -> dict[str, int]:
    """Applications of ``orgs`` (None: all) waiting on staff or on the worker, by status."""
    rows = session.execute(
        select(AidApplication.status, func.count())
        .where(AidApplication.status.in_(UNDECIDED), within(AidApplication.org_code, orgs))
        .group_by(AidApplication.status)
    )
    return dict(rows.all())


def record_event(
    session: Session,
    application: AidApplication,
    from_status: str,
    actor: str,
    comment: str | None,
    now: dt.datetime,
) -> ApplicationEvent:
    event = ApplicationEvent(
        application_id=application.id,
        from_status=from_status,
        to_status=application.status,
        actor=actor,
        comment=comment,
        at=now,
    )
    session.add(event)
    session.flush()
    return event


class TransitionError(ValueError):
    pass


def transition(
    session: Session,
    application: AidApplication,
    to_status: str,
    actor: str,
    comment: str | None = None,
    now: dt.datetime | None = None,
) -> ApplicationEvent:
    """Move ``application`` to ``to_status`` if ``actor`` may; record who, when and why."""
    allowed = TRANSITIONS.get(application.status, {})
    role = "staff" if actor.startswith("staff:") else actor
    if allowed.get(to_status) != role:
        raise TransitionError(
            f"{STATUS_LABELS.get(application.status)} → {STATUS_LABELS.get(to_status)} "
            f"is not allowed for {role}"
        )
    now = now or utcnow()
    from_status = application.status
    application.status = to_status
    application.updated_at = now
    if to_status in RELEASES:
        application.open_key = application.child_key = None
    return record_event(session, application, from_status, actor, comment, now)
