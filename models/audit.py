"""Who looked at or changed what: sign-ins, every reveal of sensitive data, every view of
an application or a transcript and every staff decision or edit (PIPL arts. 51 and 55:
access control and records kept for at least three years).

Rows are only ever added: the ORM refuses to update or delete one (see
:func:`_append_only`), and no admin route offers either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, event, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, created_at


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    # staff:<username>, worker, system, anonymous (a sign-in not yet tied to an account)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(32))  # reveal, transition, login_failed …
    subject: Mapped[str] = mapped_column(String(80), index=True)  # e.g. SY-2026-000123
    detail: Mapped[str] = mapped_column(String(200), default="")  # which field; never its value
    # Why the staff member did it, in their words (a reveal asks for one).
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[created_at] = mapped_column(index=True)


class AuditIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, flush_context, instances) -> None:
    changed = [obj for obj in (*session.dirty, *session.deleted) if isinstance(obj, AuditEntry)]
    if any(obj in session.deleted or session.is_modified(obj) for obj in changed):
        raise AuditIsAppendOnly("audit entries are never changed or deleted")


def audit(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    detail: str = "",
    now: dt.datetime | None = None,
    reason: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor, action=action, subject=subject, detail=detail[:200], reason=reason[:200]
    )
    if now is not None:
        entry.at = now
    session.add(entry)
    return entry


def audit_trail(session: Session, subject: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
        )
    )


@dataclass(frozen=True)
class AuditQuery:
    """What the audit page searches by; empty values match everything."""

    actor: str = ""  # staff:<username>
    action: str = ""
    subject: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def search_audit(
    session: Session, query: AuditQuery, offset: int = 0, limit: int = 100
) -> list[AuditEntry]:
    """Entries matching ``query``, newest first."""
    statement = select(AuditEntry)
    if query.actor:
        # A staff member's own acts, and what was done to their account (failed sign-ins
        # and lockouts are recorded before anyone is signed in, under the account).
        statement = statement.where(
            or_(AuditEntry.actor == query.actor, AuditEntry.subject == query.actor)
        )
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.subject:
        statement = statement.where(AuditEntry.subject.contains(query.subject, autoescape=True))
    if query.since is not None:
        statement = statement.where(AuditEntry.at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditEntry.at < query.until)
    statement = statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(session.scalars(statement.offset(offset).limit(limit)))
