"""Who looked at or changed what: every reveal of sensitive data and every staff decision
(PIPL arts. 51 and 55: access control and records kept for at least three years)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, created_at


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(80))  # staff:<username>, worker, system
    action: Mapped[str] = mapped_column(String(32))  # reveal, transition, export …
    subject: Mapped[str] = mapped_column(String(80), index=True)  # e.g. SY-2026-000123
    detail: Mapped[str] = mapped_column(String(200), default="")  # which field; never its value
    at: Mapped[created_at]


def audit(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    detail: str = "",
    now: dt.datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, subject=subject, detail=detail[:200])
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
