"""Operational alerts staff must see: a failing token endpoint, messages that died."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class Alert(Base):
    __tablename__ = "alerts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    message: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(default=1)
    first_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(default=None)


def raise_alert(session: Session, key: str, message: str) -> None:
    alert = session.get(Alert, key)
    now = utcnow()
    if alert is None:
        session.add(Alert(key=key, message=message, first_at=now, last_at=now))
        return
    if alert.resolved_at is not None:
        alert.first_at, alert.count, alert.resolved_at = now, 0, None
    alert.message, alert.last_at, alert.count = message, now, alert.count + 1


def resolve_alert(session: Session, key: str) -> None:
    alert = session.get(Alert, key)
    if alert is not None and alert.resolved_at is None:
        alert.resolved_at = utcnow()


def open_alerts(session: Session) -> list[Alert]:
    return list(
        session.scalars(select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.last_at))
    )
