"""The audit page: admins search who did what to which object and when; nobody edits it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models.audit import audit
from models.windows import SHANGHAI
from tests.bot.admin.access_support import add_staff, signed_in_as
from tests.helpers import login


def beijing(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(dt.UTC)


@pytest.fixture
def admin(app):
    admin = signed_in_as(app, "boss", "admin")
    with app.extensions["unionbot"].session_factory.begin() as session:
        audit(session, "staff:wang", "view", "SY-2026-000001", now=beijing(1, 9))
        audit(
            session,
            "staff:wang",
            "reveal",
            "SY-2026-000001",
            "id_number",
            beijing(2, 0),
            reason="核实申请人身份",
        )
        audit(
            session,
            "staff:li",
            "transition",
            "SY-2026-000002",
            "submitted→approved",
            beijing(2, 23),
        )
        audit(session, "staff:li", "transcript", "follower:7", now=beijing(3, 10))
    return admin


def listed(admin, query: str) -> list[str]:
    page = admin.get(f"/admin/audit?{query}").get_data(as_text=True)
    return [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr><td>.*?</tr>", page, re.S)]


def test_search_by_staff_member_includes_their_failed_sign_ins(app, admin):
    add_staff(app, "wang")
    login(app.test_client(), username="wang", password="wrong-password")
    rows = listed(admin, "staff=wang")
    assert len(rows) == 3  # newest first
    assert "（未登录）" in rows[0] and "登录失败" in rows[0] and "staff:wang" in rows[0]
    assert "查看完整信息" in rows[1] and "核实申请人身份" in rows[1]
    assert "查看申请" in rows[2]


def test_search_by_action_object_and_beijing_days(admin):
    assert len(listed(admin, "action=transcript")) == 1
    assert [("SY-2026-000002" in row) for row in listed(admin, "subject=000002")] == [True]
    # 2 November in Beijing runs from 1 Nov 16:00 to 2 Nov 16:00 UTC.
    rows = listed(admin, "since=2026-11-02&until=2026-11-02")
    assert len(rows) == 2 and "处理申请" in rows[0] and "查看完整信息" in rows[1]
    assert "2026-11-02 00:00:00" in rows[1]


def test_nothing_found_says_so(admin):
    page = admin.get("/admin/audit?subject=SY-1999").get_data(as_text=True)
    assert "没有符合条件的记录" in page


def test_the_audit_log_is_read_only(app):
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin/audit")
        for method in rule.methods
    }
    assert methods <= {"GET", "HEAD", "OPTIONS"}
