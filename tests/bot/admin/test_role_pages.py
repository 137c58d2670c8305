"""What each role sees: a menu of only what it may open, and only the buttons it may use."""

from __future__ import annotations

import re

import pytest

from tests.bot.admin.access_support import signed_in_as
from tests.helpers import REFERENCE, Worker, apply, open_all_windows

EVERYTHING = ["概览", "帮扶申请", "帮扶项目", "竞赛报名", "群发活动", "人工服务", "消息发送"]
MENUS = {
    "admin": [*EVERYTHING, "工作人员", "操作日志"],
    "reviewer": ["概览", "帮扶申请", "帮扶项目", "人工服务", "消息发送"],
    "operator": ["概览", "帮扶项目", "竞赛报名", "群发活动", "人工服务", "消息发送"],
    "viewer": EVERYTHING,
}


def menu(client) -> list[str]:
    page = client.get("/admin/").get_data(as_text=True)
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


@pytest.mark.parametrize("role", MENUS)
def test_the_menu_offers_only_what_the_role_may_open(app, role):
    assert menu(signed_in_as(app, role, role)) == MENUS[role]


def test_a_town_admin_manages_staff_but_has_no_county_wide_pages(app):
    town_admin = signed_in_as(app, "he", "admin", "hede")
    assert "工作人员" in menu(town_admin) and "操作日志" not in menu(town_admin)


@pytest.fixture
def application(wechat, db) -> str:
    open_all_windows(db)
    return REFERENCE.search(apply(Worker(wechat), "hardship")).group(0)


def test_a_viewer_reads_an_application_masked_without_acting_on_it(app, application):
    page = signed_in_as(app, "li", "viewer").get(f"/admin/applications/{application}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "320***********0022" in html
    assert "查看完整" not in html and "/reveal" not in html  # no reveal
    assert "/decision" not in html and "您的账号没有审批权限" in html  # no decision
    assert "/proofs/" not in html  # no original photo either


def test_a_reviewer_gets_the_reveal_and_decision_buttons(app, application):
    html = signed_in_as(app, "wang", "reviewer").get(f"/admin/applications/{application}")
    html = html.get_data(as_text=True)
    assert "查看完整" in html and f"/admin/applications/{application}/decision" in html
