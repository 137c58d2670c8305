"""Workers' choices in WeChat's subscription-notice popup (订阅通知), per template.

A subscription notice may only be sent to a worker who accepted its template;
WeChat reports each choice (and each later change) as an event, recorded here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

ACCEPT = "accept"


class SubscribeConsent(Base):
    __tablename__ = "subscribe_consents"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), primary_key=True
    )
    template_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # accept, reject, ban …, as WeChat says
    scene: Mapped[str | None] = mapped_column(String(16), default=None)
    updated_at: Mapped[dt.datetime]


def record_choice(
    session: Session,
    follower_id: int,
    template_id: str,
    status: str,
    scene: str | None,
    at: dt.datetime,
) -> None:
    consent = session.get(SubscribeConsent, (follower_id, template_id))
    if consent is None:
        consent = SubscribeConsent(follower_id=follower_id, template_id=template_id)
        session.add(consent)
    consent.status, consent.scene, consent.updated_at = status, scene, at


def accepted(session: Session, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (follower, template) pairs the workers accepted."""
    if not pairs:
        return set()
    rows = session.execute(
        select(SubscribeConsent.follower_id, SubscribeConsent.template_id).where(
            tuple_(SubscribeConsent.follower_id, SubscribeConsent.template_id).in_(pairs),
            SubscribeConsent.status == ACCEPT,
        )
    )
    return {(follower_id, template_id) for follower_id, template_id in rows}
