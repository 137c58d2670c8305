"""Cancelling a sign-up and filling the places it frees from the waitlist.

One code path for a worker cancelling in the chat, staff cancelling for a
worker who phoned, and staff raising a contest's capacity: each runs under the
competition's row lock, and each promoted worker is told through the outbox in
the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models.competition import (
    CANCELLED,
    CONFIRMED,
    Competition,
    CompetitionEntry,
    count_entries,
    event_day,
    lock_competition,
    waitlist,
)
from models.follower import Follower
from models.outbox import enqueue_notice


def cancel_entry(
    session: Session, entry: CompetitionEntry, now: dt.datetime
) -> list[CompetitionEntry] | None:
    """Cancel ``entry`` and fill the places it frees from the waitlist; return who was
    promoted, or None if it was already cancelled (two cancels raced: one wins)."""
    competition = lock_competition(session, entry.competition_code)
    session.refresh(entry)  # read it again under the lock
    if entry.status == CANCELLED:
        return None
    entry.status, entry.person_key, entry.updated_at = CANCELLED, None, now
    session.flush()
    return promote_waitlist(session, competition, entry.season, now)


def promote_waitlist(
    session: Session, competition: Competition, season: int, now: dt.datetime
) -> list[CompetitionEntry]:
    """Confirm the first waiting while places are free (after a cancel, or more capacity),
    and queue a notice to each. Call with the competition locked."""
    confirmed = count_entries(session, competition.code, season, CONFIRMED)
    promoted = []
    for entry in waitlist(session, competition.code, season):
        if competition.capacity is not None and confirmed >= competition.capacity:
            break
        entry.status, entry.updated_at = CONFIRMED, now
        confirmed += 1
        promoted.append(entry)
        _notify_promoted(session, competition, entry)
    return promoted


def _notify_promoted(session: Session, competition: Competition, entry: CompetitionEntry) -> None:
    follower = session.get(Follower, entry.follower_id) if entry.follower_id else None
    if follower is None:
        return
    day = event_day(competition, entry.season)
    when = f"比赛时间：{day.month}月{day.day}日 {competition.event_time}，" if day else ""
    enqueue_notice(
        session,
        key=f"competition:promoted:{entry.id}",
        kind="competition_promoted",
        follower_id=follower.id,
        openid=follower.openid,
        text=f"好消息：您已由候补转为“{competition.title}”的正式参赛选手。"
        f"{when}地点：{competition.place}。回复“我的报名”查看。",
    )
