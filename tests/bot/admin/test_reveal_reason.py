"""查看完整 asks why: a reason from the list (or the staff member's own words for 其他) is
required, one value is shown once, and who, when, which field and why are audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AidApplication, AuditEntry
from tests.bot.admin.access_support import signed_in_as
from tests.helpers import REFERENCE, WANG, Worker, apply, csrf_token, open_all_windows


@pytest.fixture
def reference(app, wechat, db) -> str:
    """A 困难职工帮扶 application submitted through the chat by 王秀梅."""
    open_all_windows(db)
    return REFERENCE.search(apply(Worker(wechat), "hardship")).group(0)


def reveal(client, reference: str, **data):
    page = f"/admin/applications/{reference}"
    return client.post(
        f"{page}/reveal",
        data={"field": "id_number", **data, "csrf_token": csrf_token(client, page)},
    )


def reveals(db) -> list[tuple[str, str, str, str]]:
    db.rollback()
    rows = db.scalars(select(AuditEntry).where(AuditEntry.action == "reveal"))
    return [(row.actor, row.subject, row.detail, row.reason) for row in rows]


def test_a_reveal_with_a_reason_shows_the_value_once_and_records_why(app, reference, db):
    reviewer = signed_in_as(app, "wang", "reviewer")
    response = reveal(reviewer, reference, reason="verify")
    assert response.status_code == 302
    page = reviewer.get(response.headers["Location"]).get_data(as_text=True)
    assert WANG in page and "原因：核实申请人身份" in page
    assert WANG not in reviewer.get(f"/admin/applications/{reference}").get_data(as_text=True)
    assert reveals(db) == [("staff:wang", reference, "id_number", "核实申请人身份")]


@pytest.mark.parametrize(
    ("data", "message"),
    [({}, "请选择查看原因"), ({"reason": "other"}, "选择“其他”时请写明查看原因")],
)
def test_without_a_reason_nothing_is_shown(app, reference, db, data, message):
    reviewer = signed_in_as(app, "wang", "reviewer")
    response = reveal(reviewer, reference, **data)
    page = reviewer.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page and WANG not in page
    assert reveals(db) == []


def test_other_takes_the_staff_members_own_words(app, reference, db):
    reviewer = signed_in_as(app, "wang", "reviewer")
    reveal(reviewer, reference, reason="other", note="职工来电要求核对")
    assert reveals(db)[0][3] == "其他：职工来电要求核对"


def test_a_viewer_has_no_reveal_button_and_a_forced_reveal_is_refused(app, reference, db):
    viewer = signed_in_as(app, "zhao", "viewer")
    page = viewer.get(f"/admin/applications/{reference}").get_data(as_text=True)
    assert "查看完整" not in page and 'name="reason"' not in page
    assert reveal(viewer, reference, reason="verify").status_code == 403
    assert reveals(db) == []
    assert db.scalars(select(AidApplication)).one().answers["id_number"] == WANG


def test_the_audit_page_lists_the_reveal_with_its_reason(app, reference):
    reveal(signed_in_as(app, "wang", "reviewer"), reference, reason="payment")
    admin = signed_in_as(app, "boss", "admin")
    page = admin.get("/admin/audit?staff=wang&action=reveal").get_data(as_text=True)
    rows = re.findall(r"<tr><td>.*?</tr>", page, re.S)
    assert len(rows) == 1
    assert "工作人员 wang" in rows[0] and reference in rows[0] and "办理资金发放" in rows[0]
