"""Consents a worker gave or refused (PIPL arts. 14, 29: separate consent for sensitive data
and for public disclosure), with the version of the notice they saw."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

PRIVACY = "privacy"  # collecting sensitive data for the application
PUBLICITY = "publicity"  # showing a masked name in the public notice (公示)


class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(64))  # e.g. aid:jinqiu
    notice_version: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool]
    at: Mapped[dt.datetime]


def record_consent(
    session: Session,
    follower_id: int,
    kind: str,
    purpose: str,
    notice_version: str,
    granted: bool,
    now: dt.datetime,
) -> ConsentRecord:
    record = ConsentRecord(
        follower_id=follower_id,
        kind=kind,
        purpose=purpose,
        notice_version=notice_version,
        granted=granted,
        at=now,
    )
    session.add(record)
    return record
