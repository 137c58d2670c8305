"""Staff sessions live in the database: they end at sign-out, on a password change, after
30 idle minutes and 12 hours in all, and a cookie copied before that is refused after."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import StaffSession
from models.staff import upsert_staff
from tests.bot.admin.access_support import Clock, add_staff, change_password, use_clock
from tests.helpers import PASSWORD, csrf_token, login

# A page every signed-in account may open, whatever its role.
PROBE = "/admin/password"


@pytest.fixture
def clock(app) -> Clock:
    return use_clock(app)


@pytest.fixture
def signed_in(app, client):
    add_staff(app, "wang")
    assert login(client).status_code == 302
    return client


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie: str):
    """What someone holding a copy of the cookie gets."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(PROBE)


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, signed_in):
    copied = cookie_of(signed_in)
    assert replay(app, copied).status_code == 200
    signed_in.post("/admin/logout", data={"csrf_token": csrf_token(signed_in, PROBE)})
    response = replay(app, copied)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_the_database_keeps_only_a_hash_of_the_cookie_token(app, signed_in, db):
    [row] = db.scalars(select(StaffSession)).all()
    assert row.token_hash not in cookie_of(signed_in)
    assert len(row.token_hash) == 64 and row.revoked_at is None


def test_thirty_idle_minutes_end_the_session(app, clock, signed_in):
    clock.advance(minutes=29)
    assert signed_in.get(PROBE).status_code == 200  # activity restarts the idle time
    clock.advance(minutes=29)
    assert signed_in.get(PROBE).status_code == 200
    clock.advance(minutes=31)
    response = signed_in.get(PROBE)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    clock.advance(minutes=1)
    assert signed_in.get(PROBE).status_code == 302  # it stays ended


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(app, clock, signed_in):
    for _ in range(35):  # a request every 20 minutes: never idle, 11 h 40 min in all
        clock.advance(minutes=20)
        assert signed_in.get(PROBE).status_code == 200
    clock.advance(minutes=25)
    assert signed_in.get(PROBE).status_code == 302


def test_idle_and_lifetime_are_configurable(make_app):
    app = make_app(admin={"idle_minutes": 5, "session_hours": 1})
    clock = use_clock(app)
    add_staff(app, "wang")
    client = app.test_client()
    login(client)
    clock.advance(minutes=6)
    assert client.get(PROBE).status_code == 302


def test_changing_the_password_signs_out_everywhere_else(app, signed_in):
    assert 'href="/admin/password">修改密码' in signed_in.get(PROBE).get_data(as_text=True)
    elsewhere = app.test_client()
    login(elsewhere)
    new = "a-brand-new-passphrase"
    assert change_password(signed_in, PASSWORD, new).status_code == 302
    assert "您在其他地方的登录已退出" in signed_in.get(PROBE).get_data(as_text=True)
    assert elsewhere.get(PROBE).status_code == 302
    assert login(app.test_client(), password=new).status_code == 302
    assert login(app.test_client()).status_code == 401  # the old password no longer works


@pytest.mark.parametrize(
    ("new", "error"),
    [("short-9ch", "密码长度须为10到128个字符"), (PASSWORD, "新密码不能与当前密码相同")],
)
def test_a_new_password_must_be_long_enough_and_new(signed_in, new, error):
    response = change_password(signed_in, PASSWORD, new)
    assert response.status_code == 400 and error in response.get_data(as_text=True)


def test_the_cookie_is_http_only_and_same_site_lax_and_secure_behind_tls(make_app):
    for base_url, secure in (("", False), ("https://union.example", True)):
        app = make_app(server={"public_base_url": base_url})
        add_staff(app, f"u{int(secure)}")
        client = app.test_client()
        response = login(client, username=f"u{int(secure)}")
        header = response.headers["Set-Cookie"]
        assert "HttpOnly" in header and "SameSite=Lax" in header
        assert ("Secure" in header) is secure


def test_a_password_reset_from_the_command_line_ends_the_accounts_sessions(app, signed_in):
    with app.extensions["unionbot"].session_factory.begin() as session:
        upsert_staff(session, "wang", "reset-by-the-cli", "王科长", role="reviewer")  # add-staff
    assert signed_in.get(PROBE).status_code == 302
