"""Sign-in attempts: five failures lock the account, a busy source address is refused,
every attempt is audited, and neither the answer nor its timing tells whether a
username exists."""

from __future__ import annotations

import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from models import AuditEntry
from models.staff import StaffUser
from tests.bot.admin.access_support import Clock, add_staff, use_clock
from tests.conftest import live_server
from tests.helpers import PASSWORD, login

REFUSED = "用户名或密码错误，或账号已被暂时锁定（连续输错5次锁定15分钟）"


@pytest.fixture
def clock(app) -> Clock:
    return use_clock(app)


def attempts(db) -> list[tuple[str, str]]:
    db.rollback()  # a new snapshot: the app wrote since
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(row.action, row.subject) for row in rows]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app, client, clock, db):
    add_staff(app, "wang")
    for _ in range(5):
        response = login(client, password="wrong-password")
        assert response.status_code == 401 and REFUSED in response.get_data(as_text=True)
    locked = login(client)  # the right password, too late
    assert locked.status_code == 401 and REFUSED in locked.get_data(as_text=True)
    clock.advance(minutes=14)
    assert login(client).status_code == 401
    clock.advance(minutes=2)
    assert login(client).status_code == 302
    assert attempts(db) == [
        *[("login_failed", "staff:wang")] * 4,
        ("lockout", "staff:wang"),
        ("login_locked", "staff:wang"),
        ("login_locked", "staff:wang"),
        ("login", "staff:wang"),
    ]


def test_a_success_starts_the_count_again(app, client, clock):
    add_staff(app, "wang")
    for _ in range(4):
        login(client, password="wrong-password")
    assert login(client).status_code == 302
    client = app.test_client()
    for _ in range(4):
        login(client, password="wrong-password")
    assert login(client).status_code == 302


@pytest.mark.parametrize("case", ["unknown user", "wrong password", "disabled", "locked"])
def test_every_refusal_reads_the_same(app, client, db, case):
    add_staff(app, "wang")
    username, password = "wang", "wrong-password"
    if case == "unknown user":
        username = "nobody"
    if case == "disabled":
        db.scalars(select(StaffUser)).one().active = False
        db.commit()
        password = PASSWORD
    if case == "locked":
        for _ in range(5):
            login(client, password="wrong-password")
        password = PASSWORD
    response = login(client, username=username, password=password)
    assert response.status_code == 401
    assert REFUSED in response.get_data(as_text=True)


def test_a_source_address_is_refused_after_too_many_failures(make_app, db):
    app = make_app(admin={"address_max_failures": 3})
    add_staff(app, "wang")
    add_staff(app, "li")
    client = app.test_client()
    for name in ("nobody", "li", "zhao"):
        assert login(client, username=name, password="wrong-password").status_code == 401
    response = login(client)  # right name and password, but from the same address
    assert response.status_code == 429
    assert "登录失败次数过多，请15分钟后再试" in response.get_data(as_text=True)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert login(elsewhere).status_code == 302
    assert ("login_throttled", "staff:wang") in attempts(db)


def median_refusal_seconds(client, username: str, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        assert login(client, username=username, password="wrong-password").status_code == 401
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_refusing_an_unknown_user_takes_as_long_as_a_wrong_password(make_app):
    # High limits: this test measures the password check, not the lockout.
    app = make_app(admin={"max_failed_logins": 100, "address_max_failures": 100})
    add_staff(app, "wang")
    client = app.test_client()
    median_refusal_seconds(client, "warmup", rounds=1)
    known = median_refusal_seconds(client, "wang")
    unknown = median_refusal_seconds(client, "nobody")
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_wrong_passwords_sent_all_at_once_still_lock_the_account(app):
    add_staff(app, "wang")

    def attempt(base_url: str, password: str) -> int:
        with requests.Session() as browser:
            page = browser.get(f"{base_url}/admin/login", timeout=30).text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            data = {"username": "wang", "password": password, "csrf_token": token}
            return browser.post(
                f"{base_url}/admin/login", data=data, allow_redirects=False, timeout=30
            ).status_code

    with live_server(app) as base_url, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: attempt(base_url, "wrong-password"), range(8)))
        assert statuses == [401] * 8
        assert attempt(base_url, PASSWORD) == 401  # locked, however the attempts raced
