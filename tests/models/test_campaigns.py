"""Campaigns: send times in Beijing time (cron with weekday names, dates, lunar days),
quiet hours, the two-person rule, and the seasonal four seeded as drafts."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import select

from models.audit import audit_trail
from models.campaign_schedule import (
    ScheduleError,
    after_quiet_hours,
    next_send_time,
    parse_send_time,
)
from models.campaigns import (
    APPROVED,
    DRAFT,
    SCHEDULED,
    Campaign,
    CampaignError,
    approve,
    create,
    edit,
    schedule,
)
from models.seed import DATA, report_lines, seed_catalogue
from models.windows import SHANGHAI
from tests.campaign_support import MORNING, TEXT, approved_campaign


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)


class TestSendTimes:
    def test_cron_fires_on_the_named_weekday_in_beijing_time(self):
        # 1 December 2026 is a Tuesday; 9:00 in Beijing is 01:00 UTC.
        fire = next_send_time(["cron 0 9 * 12 tue"], local(2026, 12, 1, 8, 0))
        assert fire == local(2026, 12, 1, 9, 0)
        assert next_send_time(["cron 0 9 * 12 tue"], fire) == local(2026, 12, 8, 9, 0)

    def test_a_numeric_weekday_is_refused_rather_than_read_as_monday(self):
        with pytest.raises(ScheduleError, match="星期请写英文缩写"):
            parse_send_time("cron 0 9 * * 0")

    @pytest.mark.parametrize(
        ("line", "after", "expected"),
        [
            ("春节 09:00", local(2026, 12, 1, 0, 0), local(2027, 2, 6, 9, 0)),
            ("元宵 19:30", local(2027, 2, 7, 0, 0), local(2027, 2, 20, 19, 30)),
            ("除夕-3 10:00", local(2026, 12, 1, 0, 0), local(2027, 2, 2, 10, 0)),
            # Chinese New Year 2026 fell on 17 February: 除夕 was the 16th.
            ("除夕 10:00", local(2026, 1, 1, 0, 0), local(2026, 2, 16, 10, 0)),
        ],
    )
    def test_lunar_days_come_from_the_calendar_every_year(self, line, after, expected):
        assert next_send_time([line], after) == expected

    def test_an_explicit_date_fires_once(self):
        assert next_send_time(["2027-01-05 09:00"], MORNING) == local(2027, 1, 5, 9, 0)
        assert next_send_time(["2027-01-05 09:00"], local(2027, 1, 5, 9, 0)) is None

    @pytest.mark.parametrize("line", ["明天上午", "2027-02-30 09:00", "春节 25:00", "cron 0 9 *"])
    def test_unreadable_send_times_are_refused_with_a_reason(self, line):
        with pytest.raises(ScheduleError):
            parse_send_time(line)

    @pytest.mark.parametrize(
        ("due", "sent"),
        [
            (local(2026, 12, 1, 22, 30), local(2026, 12, 2, 8, 0)),
            (local(2026, 12, 2, 6, 0), local(2026, 12, 2, 8, 0)),
            (local(2026, 12, 2, 8, 0), local(2026, 12, 2, 8, 0)),
            (local(2026, 12, 2, 20, 59), local(2026, 12, 2, 20, 59)),
        ],
    )
    def test_quiet_hours_defer_to_the_morning(self, due, sent):
        assert after_quiet_hours(due, "21:00", "08:00") == sent


def values(**changes) -> dict:
    return {
        "code": "test",
        "name": "测试活动",
        "season": "spring",
        "send_times": ["2027-01-05 09:00"],
        "audience": {"rule": "all"},
        "channel": "mass",
        "content": TEXT,
    } | changes


class TestTwoPersonRule:
    def test_the_author_cannot_approve_their_own_campaign(self, db):
        campaign = create(db, values(), "staff:zhang")
        with pytest.raises(CampaignError, match="不能审核自己创建的活动"):
            approve(db, campaign, "staff:zhang", MORNING)
        approve(db, campaign, "staff:li", MORNING)
        assert (campaign.status, campaign.approver) == (APPROVED, "staff:li")

    def test_an_edit_after_approval_returns_it_to_draft(self, db):
        campaign = approved_campaign(db)
        schedule(db, campaign, "staff:li", MORNING)
        assert campaign.status == SCHEDULED
        assert edit(db, campaign, {"content": TEXT + "欢迎参加。"}, "staff:zhang") == ["content"]
        assert (campaign.status, campaign.approver, campaign.next_send_at) == (DRAFT, None, None)
        actions = [e.action for e in audit_trail(db, campaign.code)]
        assert actions == [
            "campaign.create",
            "campaign.approve",
            "campaign.schedule",
            "campaign.edit",
        ]

    def test_a_mass_text_over_300_characters_is_refused(self, db):
        with pytest.raises(CampaignError, match="群发文字最多300字"):
            create(db, values(content="字" * 301), "staff:zhang")


def test_the_four_seasonal_campaigns_are_seeded_as_drafts(db):
    seeded = db.scalars(select(Campaign).order_by(Campaign.id)).all()
    assert [(c.name, c.status, c.author) for c in seeded] == [
        ("春送岗位", DRAFT, "system"),
        ("夏送清凉", DRAFT, "system"),
        ("金秋助学", DRAFT, "system"),
        ("冬送温暖", DRAFT, "system"),
    ]
    for campaign in seeded:
        assert len(campaign.content) <= 300
        assert next_send_time(campaign.send_times, MORNING) is not None


def test_a_data_file_change_returns_an_approved_campaign_to_draft(db, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    jinqiu = db.scalars(select(Campaign).where(Campaign.code == "jinqiu")).one()
    approve(db, jinqiu, "staff:li", MORNING)
    path = data / "campaigns.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("申请截止8月25日", "8月25日截止"), encoding="utf-8")
    lines = report_lines(seed_catalogue(db, data))
    assert lines == ["campaign jinqiu: content, status (back to draft) updated"]
    assert (jinqiu.status, jinqiu.approver) == (DRAFT, None)
