"""What the staff-access tests share: accounts of each role, a clock the test moves, and
a crawl of every admin page a signed-in staff member can reach by following links."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from models.base import utcnow
from models.staff import upsert_staff
from tests.helpers import PASSWORD, csrf_token, login

# Links that act or leave rather than show a page.
NOT_PAGES = ("/admin/logout",)


class Clock:
    """``app.config["UNIONBOT_CLOCK"]``: the time the admin believes it is."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def use_clock(app) -> Clock:
    """Make the admin read the time from a :class:`Clock` the test moves."""
    clock = Clock()
    app.config["UNIONBOT_CLOCK"] = clock
    return clock


def change_password(client, current: str, new: str):
    """Set a new password on the change-password page, as its owner does."""
    return client.post(
        "/admin/password",
        data={
            "current": current,
            "new": new,
            "confirm": new,
            "csrf_token": csrf_token(client, "/admin/password"),
        },
    )


def add_staff(app, username: str, role: str = "reviewer", org_code: str = "sheyang") -> None:
    with app.extensions["unionbot"].session_factory.begin() as session:
        upsert_staff(session, username, PASSWORD, f"{username} 同志", role=role, org_code=org_code)


def post_on_staff_page(client, path: str, **data):
    """A POST as the staff accounts page sends it (its CSRF token)."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/admin/staff")})


def signed_in_as(app, username: str, role: str, org_code: str = "sheyang"):
    """A new test client signed in to a new account of ``role``."""
    add_staff(app, username, role, org_code)
    client = app.test_client()
    assert login(client, username=username).status_code == 302
    return client


def crawl(client, start: str = "/admin/") -> Iterator[tuple[str, object]]:
    """Every admin page reachable by links from ``start``, each fetched once (GET only)."""
    seen, waiting = set(), [start]
    while waiting:
        path = waiting.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        yield path, response
        if response.mimetype != "text/html":
            continue
        for href in re.findall(r'href="([^"#]+)', response.get_data(as_text=True)):
            target = urlsplit(urljoin(path, href.replace("&amp;", "&")))
            link = target.path + (f"?{target.query}" if target.query else "")
            if target.path.startswith("/admin/") and target.path not in NOT_PAGES:
                waiting.append(link)
