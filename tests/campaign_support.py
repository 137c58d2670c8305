"""What the campaign tests share: followers in bulk, a campaign approved by two people,
and the clock they run at."""

from __future__ import annotations

import datetime as dt

from models import Follower
from models.campaigns import Campaign, approve, create
from models.windows import SHANGHAI

# Tuesday 10 March 2026, 10:00 in Beijing: outside the quiet hours.
MORNING = dt.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
TEXT = "【测试活动】县总工会提醒您：春风行动招聘会本周六在县人力资源市场举行。回复“退订”不再接收。"


def add_followers(session, count: int, prefix: str = "o_fan", **values) -> list[Follower]:
    followers = [Follower(openid=f"{prefix}_{n:05d}", **values) for n in range(count)]
    session.add_all(followers)
    session.flush()
    return followers


def approved_campaign(session, code: str = "test_jobs", now=MORNING, **values) -> Campaign:
    fields = {
        "code": code,
        "name": values.pop("name", f"活动{code}"),
        "season": "spring",
        "send_times": ["cron 30 9 * 3 tue"],
        "audience": {"rule": "all"},
        "channel": "mass",
        "content": TEXT,
    } | values
    campaign = create(session, fields, "staff:zhang")
    approve(session, campaign, "staff:li", now)
    return campaign
