"""Admins manage staff accounts in the admin: create with a role and an organisation, reset a
password (a temporary one, replaced at the next sign-in), disable and enable, sign out."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import AuditEntry
from models.staff import find_staff
from tests.bot.admin.access_support import change_password, signed_in_as
from tests.bot.admin.access_support import post_on_staff_page as post
from tests.helpers import PASSWORD, login

PROBE = "/admin/password"


def temporary_password(page: str) -> str:
    return re.search(r'<b class="secret">([^<]+)</b>', page).group(1)


def staff_id(db, username: str) -> int:
    db.rollback()  # a new snapshot: the app wrote since
    return find_staff(db, username).id


def audited(db) -> list[tuple[str, str, str]]:
    db.rollback()  # a new snapshot: the app wrote since
    rows = db.scalars(select(AuditEntry).where(AuditEntry.actor == "staff:boss"))
    return [(row.action, row.subject) for row in rows if row.action != "login"]


def first_sign_in(app, username: str, password: str):
    """The new account's first sign-in: only the change-password page opens."""
    client = app.test_client()
    response = login(client, username=username, password=password)
    assert response.headers["Location"] == "/admin/password"
    assert client.get("/admin/applications").headers["Location"] == "/admin/password"
    assert change_password(client, password, "my-own-passphrase-1").status_code == 302
    return client


def test_an_admin_creates_an_account_which_sets_its_own_password(app, db):
    admin = signed_in_as(app, "boss", "admin")
    form = admin.get("/admin/staff/new").get_data(as_text=True)
    assert "射阳县总工会" in form and "只读查看" in form
    response = post(
        admin,
        "/admin/staff/new",
        username="li",
        display_name="李审核",
        role="viewer",
        org_code="sheyang",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "账号已创建：li" in page
    password = temporary_password(page)
    assert len(password) >= 10
    client = first_sign_in(app, "li", password)
    assert client.get(PROBE).status_code == 200
    listing = admin.get("/admin/staff").get_data(as_text=True)
    assert "李审核" in listing and "只读查看" in listing
    assert audited(db) == [("staff_created", "staff:li")]


def test_a_taken_username_is_refused(app):
    admin = signed_in_as(app, "boss", "admin")
    response = post(
        admin,
        "/admin/staff/new",
        username="boss",
        display_name="重名",
        role="viewer",
        org_code="sheyang",
    )
    assert response.status_code == 400 and "这个用户名已被使用" in response.get_data(as_text=True)


def test_a_reset_signs_the_account_out_and_asks_for_a_new_password(app, db):
    admin = signed_in_as(app, "boss", "admin")
    wang = signed_in_as(app, "wang", "reviewer")
    response = post(admin, f"/admin/staff/{staff_id(db, 'wang')}/reset")
    password = temporary_password(response.get_data(as_text=True))
    assert wang.get(PROBE).status_code == 302  # signed out at once
    assert login(app.test_client(), username="wang").status_code == 401  # old password gone
    first_sign_in(app, "wang", password)
    assert audited(db) == [("password_reset", "staff:wang")]


def test_a_reset_lifts_a_lockout(app, db):
    admin = signed_in_as(app, "boss", "admin")
    signed_in_as(app, "wang", "reviewer")
    for _ in range(5):
        login(app.test_client(), username="wang", password="wrong-password")
    assert "已锁定至" in admin.get("/admin/staff").get_data(as_text=True)
    response = post(admin, f"/admin/staff/{staff_id(db, 'wang')}/reset")
    first_sign_in(app, "wang", temporary_password(response.get_data(as_text=True)))


def test_disabling_signs_out_and_refuses_sign_in_until_enabled(app, db):
    admin = signed_in_as(app, "boss", "admin")
    wang = signed_in_as(app, "wang", "reviewer")
    path = f"/admin/staff/{staff_id(db, 'wang')}/active"
    post(admin, path)
    assert wang.get(PROBE).status_code == 302
    assert login(app.test_client(), username="wang").status_code == 401
    assert "已停用" in admin.get("/admin/staff").get_data(as_text=True)
    post(admin, path)
    assert login(app.test_client(), username="wang", password=PASSWORD).status_code == 302
    assert audited(db) == [("staff_disabled", "staff:wang"), ("staff_enabled", "staff:wang")]


def test_an_admin_cannot_disable_themselves(app, db):
    admin = signed_in_as(app, "boss", "admin")
    response = post(admin, f"/admin/staff/{staff_id(db, 'boss')}/active")
    assert "不能停用自己的账号" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert admin.get(PROBE).status_code == 200


def test_signing_an_account_out_everywhere(app, db):
    admin = signed_in_as(app, "boss", "admin")
    wang = signed_in_as(app, "wang", "reviewer")
    post(admin, f"/admin/staff/{staff_id(db, 'wang')}/sessions")
    assert wang.get(PROBE).status_code == 302
    assert login(app.test_client(), username="wang").status_code == 302  # password unchanged
    assert audited(db) == [("sessions_revoked", "staff:wang")]


def test_only_admins_manage_accounts(app):
    for role in ("reviewer", "operator", "viewer"):
        client = signed_in_as(app, role, role)
        assert client.get("/admin/staff").status_code == 403
        assert client.get("/admin/audit").status_code == 403


def test_a_change_without_the_pages_csrf_token_is_refused(app, db):
    admin = signed_in_as(app, "boss", "admin")
    signed_in_as(app, "wang", "reviewer")
    assert admin.post(f"/admin/staff/{staff_id(db, 'wang')}/reset").status_code == 400
    assert login(app.test_client(), username="wang", password=PASSWORD).status_code == 302


def test_an_admin_changes_a_role_and_organisation_effective_at_once(app, db):
    admin = signed_in_as(app, "boss", "admin")
    wang = signed_in_as(app, "wang", "reviewer")
    assert wang.get("/admin/applications").status_code == 200
    path = f"/admin/staff/{staff_id(db, 'wang')}/edit"
    assert "审核员" in admin.get(path).get_data(as_text=True)
    response = post(admin, path, role="operator", org_code="hede")
    assert response.status_code == 302
    assert wang.get("/admin/applications").status_code == 403  # operators do not review aid
    assert "合德镇总工会" in admin.get("/admin/staff").get_data(as_text=True)
    assert audited(db) == [("staff_changed", "staff:wang")]


def test_an_admin_cannot_change_their_own_role(app, db):
    admin = signed_in_as(app, "boss", "admin")
    path = f"/admin/staff/{staff_id(db, 'boss')}/edit"
    response = post(admin, path, role="viewer", org_code="sheyang")
    assert response.status_code == 400 and "不能修改自己的角色" in response.get_data(as_text=True)
    assert admin.get("/admin/staff").status_code == 200
