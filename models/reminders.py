"""Reminding confirmed entrants before their event, once each, through the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models.competition import competitions, event_start, unreminded_entrants
from models.follower import Follower
from models.outbox import enqueue_notice
from models.windows import SHANGHAI


def send_reminders(session: Session, now: dt.datetime, lead: dt.timedelta) -> int:
    """Queue a reminder to every confirmed entrant whose event starts within ``lead``.

    Each entrant is reminded once (``reminded_at``); the outbox key makes a
    second run in the same window a no-op even if it raced the first.
    """
    sent = 0
    year = now.astimezone(SHANGHAI).year
    for competition in competitions(session):
        for season in (year - 1, year):
            start = event_start(competition, season)
            if start is None or not now <= start <= now + lead:
                continue
            for entry in unreminded_entrants(session, competition.code, season):
                follower = session.get(Follower, entry.follower_id) if entry.follower_id else None
                if follower is not None:
                    enqueue_notice(
                        session,
                        key=f"competition:reminder:{entry.id}",
                        kind="competition_reminder",
                        follower_id=follower.id,
                        openid=follower.openid,
                        text=f"比赛提醒：“{competition.title}”将于{start.month}月{start.day}日 "
                        f"{competition.event_time}在{competition.place}举行，请带好身份证提前到场。"
                        "如不能参加，请回复“我的报名”取消，把名额让给候补的职工。",
                        # A reminder that arrives after the start is only noise.
                        expires_at=start,
                    )
                    sent += 1
                entry.reminded_at = now
    return sent
