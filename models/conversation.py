"""Conversation state per follower: which flow a worker is in and what they answered so far.

Kept in the database, not in process memory, so a conversation survives
restarts and carries on whichever worker process takes the next message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, delete, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.crypto import EncryptedJSON


class Conversation(Base):
    __tablename__ = "conversations"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), primary_key=True
    )
    # One row per flow: a quick question (pick a programme, confirm a withdrawal)
    # does not overwrite a paused form; the most recently active row answers.
    flow: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(64))
    # Draft answers (ID numbers, income, illness) are sensitive: encrypted at rest.
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def get_conversation(session: Session, follower_id: int) -> Conversation | None:
    """The follower's most recently active conversation."""
    return session.scalars(
        select(Conversation)
        .where(Conversation.follower_id == follower_id)
        .order_by(Conversation.updated_at.desc())
        .limit(1)
    ).first()


def find_conversation(session: Session, follower_id: int, flow: str) -> Conversation | None:
    return session.get(Conversation, (follower_id, flow))


def save_conversation(
    session: Session, follower_id: int, flow: str, data: dict[str, Any], now: dt.datetime
) -> Conversation:
    """Create or replace the follower's conversation in ``flow``; ``data["step"]`` is its step."""
    conversation = find_conversation(session, follower_id, flow)
    if conversation is None:
        conversation = Conversation(follower_id=follower_id, flow=flow, started_at=now)
        session.add(conversation)
    conversation.step = str(data.get("step", ""))[:64]
    conversation.data = dict(data)  # a new object: the encrypted column only sees reassignment
    conversation.updated_at = now
    session.flush()
    return conversation


def end_conversation(session: Session, conversation: Conversation | None) -> None:
    if conversation is not None:
        session.delete(conversation)
        session.flush()


def purge_conversations_before(session: Session, cutoff: dt.datetime) -> int:
    """Delete drafts nobody touched since ``cutoff`` (abandoned forms, PIPL art. 19)."""
    result = session.execute(delete(Conversation).where(Conversation.updated_at < cutoff))
    return result.rowcount or 0


def stored_flows(session: Session) -> list[str]:
    """The flows of every stored conversation (an empty list before the schema exists)."""
    if not inspect(session.connection()).has_table(Conversation.__tablename__):
        return []
    return list(session.scalars(select(Conversation.flow).distinct()))
