"""The benefits catalogue (普惠服务): short answers to what workers ask, edited by staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class Benefit(Base):
    __tablename__ = "benefits"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)  # fits a phone screen
    audience: Mapped[str] = mapped_column(Text, default="")  # who it is for
    how: Mapped[str] = mapped_column(Text, default="")  # how to get it
    link: Mapped[str] = mapped_column(String(255), default="")
    # Words and phrasings that point here: {"keywords": [...], "questions": [...]}.
    matching: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The data file's values as the last sync applied them (models.data_sync): a value
    # still equal to its snapshot is the file's to update; one that differs is staff's.
    synced: Mapped[dict[str, Any] | None] = mapped_column(default=None)


def benefits(session: Session, active_only: bool = True) -> list[Benefit]:
    query = select(Benefit).order_by(Benefit.position, Benefit.code)
    if active_only:
        query = query.where(Benefit.active.is_(True))
    return list(session.scalars(query))
