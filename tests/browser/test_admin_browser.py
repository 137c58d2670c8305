"""The admin in a real browser (Debian's Chromium, driven by Playwright) over real HTTP:
a grassroots reviewer sees only their union's applications; a reviewer reveals an ID
number with a reason and an admin finds it on the audit page; a viewer has no reveal
button, and a reveal forced past the page is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.bot.admin.access_support import add_staff
from tests.conftest import live_server
from tests.helpers import (
    PASSWORD,
    REFERENCE,
    SCRIPTS,
    WANG,
    Worker,
    apply,
    common,
    open_all_windows,
    valid_id,
)


@pytest.fixture
def site(app) -> Iterator[str]:
    with live_server(app) as base_url:
        yield base_url


@pytest.fixture
def reference(app, wechat, db) -> str:
    open_all_windows(db)
    return REFERENCE.search(apply(Worker(wechat), "hardship")).group(0)


def sign_in(browser: Browser, site: str, username: str) -> Page:
    page = browser.new_context(base_url=site).new_page()
    # The pages must work under their own CSP: anything it blocked shows up here.
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),
    )
    page.goto("/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/admin/")
    return page


def test_a_reviewer_reveals_an_id_number_with_a_reason_and_the_audit_page_shows_it(
    app, site, browser, reference
):
    add_staff(app, "wang", "reviewer")
    add_staff(app, "boss", "admin")
    reviewer = sign_in(browser, site, "wang")
    reviewer.goto(f"/admin/applications/{reference}")
    row = reviewer.locator("#answer-id_number")
    assert WANG not in row.inner_text()
    row.locator("select[name=reason]").select_option(label="核实申请人身份")
    row.locator("button", has_text="查看完整").click()
    reviewer.wait_for_load_state()
    assert WANG in reviewer.locator("#answer-id_number").inner_text()
    reviewer.reload()  # shown once
    assert WANG not in reviewer.locator("#answer-id_number").inner_text()

    admin = sign_in(browser, site, "boss")
    admin.goto("/admin/audit")
    admin.select_option("select[name=staff]", "wang")
    admin.select_option("select[name=action]", "reveal")
    admin.click("form.filters button")
    admin.wait_for_load_state()
    rows = admin.locator("tbody tr")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "工作人员 wang" in text and reference in text and "核实申请人身份" in text
    assert reviewer.csp_violations == [] and admin.csp_violations == []
    header = admin.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(183, 28, 28)"  # the stylesheet, a file, loaded under the CSP


def test_a_viewer_sees_no_reveal_button_and_a_forced_reveal_is_refused(
    app, site, browser, reference
):
    add_staff(app, "zhao", "viewer")
    viewer = sign_in(browser, site, "zhao")
    viewer.goto(f"/admin/applications/{reference}")
    assert viewer.locator("#answer-id_number").is_visible()
    assert viewer.locator("button", has_text="查看完整").count() == 0
    token = viewer.locator("input[name=csrf_token]").first.get_attribute("value")
    forced = viewer.request.post(
        f"{site}/admin/applications/{reference}/reveal",
        form={"field": "id_number", "reason": "verify", "csrf_token": token},
        max_redirects=0,
    )
    assert forced.status == 403
    assert WANG not in forced.text()


def apply_as_member_of(wechat, openid: str, union: str, id_number: str, name: str) -> str:
    """A 困难职工帮扶 application whose worker names ``union`` as their own."""
    answers = [*common(id_number, name)[:-1], union, *SCRIPTS["hardship"][7:]]
    return REFERENCE.search(apply(Worker(wechat, openid), "hardship", answers=answers)).group(0)


def test_a_grassroots_reviewer_sees_only_their_unions_applications(app, site, browser, wechat, db):
    open_all_windows(db)
    textile = apply_as_member_of(wechat, "o_textile", "金海纺织工会", valid_id(1), "李纺")
    port = apply_as_member_of(wechat, "o_port", "港区工会", valid_id(2), "张港")
    add_staff(app, "jin", "reviewer", org_code="jinhai_textile")
    reviewer = sign_in(browser, site, "jin")
    reviewer.goto("/admin/applications")
    listed = reviewer.locator("main table").inner_text()
    assert textile in listed and port not in listed
    assert reviewer.goto(f"/admin/applications/{port}").status == 404
    assert reviewer.goto(f"/admin/applications/{textile}").status == 200
