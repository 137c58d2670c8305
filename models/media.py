"""Files downloaded from WeChat's media API (photos sent as proofs), stored by content hash,
and the photos that could not be fetched before WeChat deleted them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.aid import NEEDS_INFO, AidApplication, ApplicationProof
from models.base import Base, created_at
from models.follower import Follower
from models.outbox import enqueue_notice
from models.windows import SHANGHAI

RESEND_KIND = "proof_resend"


class MediaFile(Base):
    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[str] = mapped_column(String(128), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    downloaded_at: Mapped[created_at]


class MediaFailure(Base):
    """A photo never fetched before WeChat's 3 days ran out; the worker was asked for it again."""

    __tablename__ = "media_failures"

    media_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    follower_id: Mapped[int | None] = mapped_column(
        ForeignKey("followers.id", ondelete="SET NULL"), default=None
    )
    received_at: Mapped[dt.datetime]
    failed_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(Text)


def find_media(session: Session, media_id: str) -> MediaFile | None:
    return session.scalars(select(MediaFile).where(MediaFile.media_id == media_id)).one_or_none()


def download_failure(session: Session, media_id: str) -> MediaFailure | None:
    """Why the photo ``media_id`` will never be downloaded, or None (stored, or still trying)."""
    return session.get(MediaFailure, media_id)


def record_media(
    session: Session, media_id: str, sha256: str, path: str, content_type: str, size: int
) -> MediaFile:
    media = find_media(session, media_id)
    if media is None:
        media = MediaFile(
            media_id=media_id, sha256=sha256, path=path, content_type=content_type, size=size
        )
        session.add(media)
    return media


def give_up_download(
    session: Session,
    *,
    media_id: str,
    follower_id: int | None,
    received_at: dt.datetime,
    reason: str,
    hotline: str,
    now: dt.datetime,
) -> bool:
    """Record that the photo is lost and ask the worker, through the outbox, to send it again.

    Runs in the transaction that gives the download up. Returns whether a notice
    was queued (not when nobody can be told, or the application it belongs to is
    already decided and needs it no more).
    """
    if session.get(MediaFailure, media_id) is None:
        session.add(
            MediaFailure(
                media_id=media_id,
                follower_id=follower_id,
                received_at=received_at,
                failed_at=now,
                reason=reason,
            )
        )
    follower = session.get(Follower, follower_id) if follower_id else None
    if follower is None:
        return False
    text = _resend_text(session, media_id, received_at, hotline)
    if text is None:
        return False
    return enqueue_notice(
        session,
        key=f"media:resend:{media_id}",
        kind=RESEND_KIND,
        follower_id=follower.id,
        openid=follower.openid,
        text=text,
    )


def _resend_text(
    session: Session, media_id: str, received_at: dt.datetime, hotline: str
) -> str | None:
    lost = "没能保存下来：微信只保留照片3天，这期间没能取回。"
    proof = session.scalars(
        select(ApplicationProof).where(ApplicationProof.media_id == media_id).limit(1)
    ).first()
    if proof is None:  # still in a form, or not part of an aid application
        day = received_at.astimezone(SHANGHAI)
        return (
            f"您{day.month}月{day.day}日发送的一张照片{lost}"
            "如果还在填写，请重新发送这张照片；已经提交的，工作人员会联系您补交。"
            f"如有疑问请拨打 {hotline}。"
        )
    application = session.get(AidApplication, proof.application_id)
    if not application.undecided:
        return None
    ref = application.reference
    number = [p.media_id for p in application.proofs].index(media_id) + 1
    how = (
        f"回复“补充 {ref}”发送。"
        if application.status == NEEDS_INFO
        else f"工作人员会请您补交（到时回复“补充 {ref}”发送）。"
    )
    return (
        f"您为申请 {ref}（{application.programme.name}）发送的第{number}张照片{lost}"
        f"请重新拍好这张照片，{how}如有疑问请拨打 {hotline}。"
    )
