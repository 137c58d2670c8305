"""Conversation state per follower: which flow a worker is in and what they answered so far.

Kept in the database, not in process memory, so a conversation survives
restarts and carries on whichever worker process takes the next message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.crypto import EncryptedJSON


class Conversation(Base):
    __tablename__ = "conversations"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    # Draft answers (ID numbers, income, illness) are sensitive: encrypted at rest.
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def get_conversation(session: Session, follower_id: int) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(Conversation.follower_id == follower_id)
    ).one_or_none()
