"""群发活动 on a phone-sized screen in a real browser (Debian's Chromium): one operator
writes a campaign, the approve button refuses them, a second operator approves it; no
page needs sideways scrolling."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from tests.bot.admin.access_support import add_staff
from tests.campaign_support import TEXT, add_followers
from tests.conftest import live_server
from tests.helpers import PASSWORD

PHONE = {"width": 390, "height": 844}


def operator(browser: Browser, site: str, username: str) -> Page:
    page = browser.new_context(base_url=site, viewport=PHONE).new_page()
    page.goto("/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/admin/")
    return page


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_two_operators_write_and_approve_a_campaign_on_their_phones(app, db, browser):
    add_staff(app, "zhang", "operator")
    add_staff(app, "li", "operator")
    add_followers(db, 4)
    db.commit()
    with live_server(app) as site:
        author = operator(browser, site, "zhang")
        author.click("text=群发活动")
        author.click("text=＋ 新建活动")
        assert fits(author)
        author.fill("input[name=code]", "cool_2027")
        author.fill("input[name=name]", "高温慰问")
        author.fill("textarea[name=send_times]", "cron 0 9 20 6 *")
        author.fill("textarea[name=content]", TEXT)
        author.click("text=保存为草稿")
        assert "受众：4 人" in author.inner_text("main")
        assert fits(author)
        author.click("button:has-text('审核通过')")
        assert "不能审核自己创建的活动" in author.inner_text("main")
        assert "草稿" in author.inner_text("h3")

        approver = operator(browser, site, "li")
        approver.goto("/admin/campaigns/cool_2027")
        approver.click("button:has-text('审核通过')")
        assert "已审核通过" in approver.inner_text("main")
        assert "已审核" in approver.inner_text("h3")
        approver.click("button:has-text('排期')")
        assert "已排期" in approver.inner_text("main")
        assert fits(approver)
