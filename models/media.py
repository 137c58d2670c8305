"""Files downloaded from WeChat's media API (photos sent as proofs), stored by content hash."""

from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, created_at


class MediaFile(Base):
    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[str] = mapped_column(String(128), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    downloaded_at: Mapped[created_at]


def find_media(session: Session, media_id: str) -> MediaFile | None:
    return session.scalars(select(MediaFile).where(MediaFile.media_id == media_id)).one_or_none()


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
