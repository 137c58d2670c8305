"""The authorisation matrix: every admin route, as every role at the county and at a town,
as nobody, and on another organisation's object, answers exactly as the permission table
(bot/admin/permissions.py) says: sign in first, 403, 404, or the page.

The routes come from the app's URL map, so a new route is in the matrix the day it is
added; one missing from the table fails :func:`test_every_admin_route_is_in_the_table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from bot.admin.permissions import ENDPOINTS, ROLES, Permission, required, role_may
from models import (
    AidApplication,
    Competition,
    CompetitionEntry,
    Follower,
    HandoffRequest,
    MediaFile,
    StaffUser,
)
from models.campaigns import Campaign
from tests.bot.admin.access_support import add_staff, signed_in_as
from tests.helpers import (
    REFERENCE,
    Worker,
    apply,
    csrf_token,
    hardship_naming,
    open_all_windows,
    sign_up,
    valid_id,
)

# The two organisations of the matrix: staff of HOME act on HOME's workers and meet
# OTHER's (a town beside theirs).
HOME, OTHER = "hede", "linhai"
# What each organisation's worker names: their union, and their employer (for sign-ups),
# whose union is below the organisation.
NAMES = {HOME: ("合德镇工会", "骑手"), OTHER: ("临海镇工会", "临海农机合作社")}
BELOW = {HOME: "riders", OTHER: "linhai_coop"}
# Arguments that name a worker's record, so they belong to an organisation.
ORG_OBJECTS = ("reference", "proof_id", "entry_id", "follower_id", "request_id", "staff_id")
# What a POST carries besides the CSRF token, where the view checks its form before the
# record (a reveal without a reason is sent back to say why, whoever's record it is).
FORMS = {
    "admin.reveal": {"field": "id_number", "reason": "verify"},
    "admin.handoff_reveal": {"reason": "contact"},
    "admin.decide": {"to_status": "under_review"},
}
# What a viewer may still post: their own sign-in and password.
ON_OWN_ACCOUNT = ("admin.login", "admin.logout", "admin.change_password")
# The table's decisions that matter most, written out: a change to the table that breaks
# one fails here however the rest of the matrix looks.
POLICY = [
    ("viewer", Permission.APPLICATIONS_REVEAL, False),
    ("viewer", Permission.APPLICATIONS_DECIDE, False),
    ("viewer", Permission.COMPETITIONS_EDIT, False),
    ("viewer", Permission.HANDOFFS_HANDLE, False),
    ("reviewer", Permission.COMPETITIONS_EDIT, False),
    ("reviewer", Permission.CAMPAIGNS_EDIT, False),
    ("operator", Permission.APPLICATIONS_READ, False),
    ("operator", Permission.APPLICATIONS_REVEAL, False),
    ("reviewer", Permission.STAFF_MANAGE, False),
    ("operator", Permission.AUDIT_READ, False),
    ("reviewer", Permission.APPLICATIONS_REVEAL, True),
    ("operator", Permission.COMPETITIONS_EDIT, True),
    ("admin", Permission.STAFF_MANAGE, True),
]


@dataclass
class World:
    """The records the matrix requests, by organisation, and shared path arguments."""

    objects: dict[str, dict[str, int | str]]  # org → argument name → value
    shared: dict[str, int | str]


def admin_rules(app: Flask) -> list[tuple[str, str, object]]:
    """(endpoint, method, rule) for every admin route and method, HEAD and OPTIONS aside."""
    return sorted(
        (rule.endpoint, method, rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def unlisted(app: Flask) -> list[tuple[str, str]]:
    return [(e, m) for e, m, _ in admin_rules(app) if (e, m) not in ENDPOINTS]


def path_for(rule, world: World, org: str) -> str:
    """The rule's URL, its arguments taken from ``org``'s records."""
    values = {}
    for name in rule.arguments:
        if name in ORG_OBJECTS:
            values[name] = world.objects[org][name]
        elif name == "code":
            kind = next(k for k in ("competition", "programme", "campaign") if k in rule.endpoint)
            values[name] = world.shared[kind]
        else:
            assert name in world.shared, f"{rule.endpoint}: give the matrix a value for <{name}>"
            values[name] = world.shared[name]
    return rule.build(values)[1]


def outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/admin/login" in location:
        return "sign in"
    return {403: "403", 404: "404"}.get(response.status_code, "page")


def expected(endpoint: str, method: str, role: str | None, county: bool, own: bool) -> str:
    needed = required(endpoint, method)
    if needed is Permission.PUBLIC:
        return "page"
    if role is None:
        return "sign in"
    if not role_may(role, needed, county=county):
        return "403"
    return "page" if own else "404"


def request(client, method: str, path: str, endpoint: str, token: str) -> str:
    """What ``client`` gets for ``method`` on ``path``, as :func:`outcome` names it."""
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": token, **FORMS.get(endpoint, {})})
    response.close()  # a proof photo is a file being sent
    return outcome(response)


@pytest.fixture
def world(app, wechat, db) -> World:
    """For each organisation: a worker's application (with a downloaded proof), sign-up,
    transcript and call-back request, and a staff account to act on; the first campaign."""
    open_all_windows(db)
    db.execute(update(Competition).values(opens="01-01", closes="01-02"))
    db.execute(
        update(Competition)
        .where(Competition.code == "forklift")
        .values(opens=None, closes=None, capacity=None, per_unit=None)
    )
    db.commit()
    media_dir = Path(app.extensions["unionbot"].settings.outbox.media_dir)
    media_dir.mkdir(parents=True, exist_ok=True)
    objects = {}
    for n, (org, (union, employer)) in enumerate(NAMES.items()):
        worker = Worker(wechat, f"o_{org}")
        reference = REFERENCE.search(
            apply(worker, "hardship", answers=hardship_naming(union, n))
        ).group(0)
        assert "报名成功" in sign_up(Worker(wechat, f"o_{org}"), valid_id(n), employer)
        worker.say("人工")
        db.rollback()
        application = db.scalars(
            select(AidApplication).where(AidApplication.reference == reference)
        ).one()
        proof = application.proofs[0]
        (media_dir / f"{org}.png").write_bytes(b"\x89PNG proof")
        db.add(
            MediaFile(
                media_id=proof.media_id,
                sha256="0" * 64,
                path=f"{org}.png",
                content_type="image/png",
                size=10,
            )
        )
        db.commit()
        follower = db.scalars(select(Follower.id).where(Follower.openid == f"o_{org}")).one()
        entry = db.scalars(
            select(CompetitionEntry).where(CompetitionEntry.follower_id == follower)
        ).one()
        handoff = db.scalars(
            select(HandoffRequest.id).where(HandoffRequest.follower_id == follower)
        ).one()
        assert (application.org_code, entry.org_code) == (org, BELOW[org])
        add_staff(app, f"target_{org}", "viewer", org)
        db.rollback()
        objects[org] = {
            "reference": reference,
            "proof_id": proof.id,
            "entry_id": entry.id,
            "follower_id": follower,
            "request_id": handoff,
            "staff_id": db.scalars(
                select(StaffUser.id).where(StaffUser.username == f"target_{org}")
            ).one(),
        }
    db.rollback()
    shared = {
        "competition": "forklift",
        "programme": "hardship",
        "campaign": db.scalars(select(Campaign.code).order_by(Campaign.code)).first(),
        "action": "pause",
    }
    return World(objects, shared)


def test_every_admin_route_is_in_the_table(app):
    assert unlisted(app) == []
    routes = {(e, m) for e, m, _ in admin_rules(app)}
    assert sorted(set(ENDPOINTS) - routes) == []  # no entry for a route that is gone


def test_an_unlisted_route_is_refused_and_reported(make_app):
    app = make_app()
    app.add_url_rule("/admin/throwaway", endpoint="admin.throwaway", view_func=lambda: "secret")
    assert unlisted(app) == [("admin.throwaway", "GET")]
    anonymous = app.test_client()
    assert outcome(anonymous.get("/admin/throwaway")) == "sign in"
    admin = signed_in_as(app, "zhao", "admin")
    response = admin.get("/admin/throwaway")
    assert response.status_code == 403 and b"secret" not in response.data


@pytest.mark.parametrize(("role", "permission", "allowed"), POLICY)
def test_the_tables_key_decisions(role, permission, allowed):
    assert role_may(role, permission, county=True) is allowed


def test_matrix(app, world):
    """Every route × anonymous × each role at the county and at a town × own and another
    organisation's record; all disagreements listed at once."""
    clients = {(None, True): app.test_client()}
    for role in ROLES:
        clients[role, True] = signed_in_as(app, f"county_{role}", role)
        clients[role, False] = signed_in_as(app, f"town_{role}", role, HOME)
    tokens = {key: csrf_token(client, "/admin/login") for key, client in clients.items()}
    wrong, checked = [], 0
    for endpoint, method, rule in admin_rules(app):
        if endpoint == "admin.logout":
            continue  # ends the session the rest of the matrix uses: below
        for own in (True, False) if set(rule.arguments) & set(ORG_OBJECTS) else (True,):
            path = path_for(rule, world, HOME if own else OTHER)
            for (role, county), client in clients.items():
                if not own and (role is None or county):
                    continue  # another organisation means nothing to nobody or to the county
                want = expected(endpoint, method, role, county, own)
                got = request(client, method, path, endpoint, tokens[role, county])
                checked += 1
                if role == "viewer" and method == "POST" and endpoint not in ON_OWN_ACCOUNT:
                    want = "403"  # read-only, whatever the table says
                if got != want:
                    wrong.append(
                        f"{method} {path} as {role or 'anonymous'}"
                        f"{'' if county else ' of ' + HOME}: {got}, expected {want}"
                    )
    assert wrong == []
    assert checked > 250  # the matrix ran: routes × people, not an empty loop
    for (role, county), client in clients.items():
        response = client.post("/admin/logout", data={"csrf_token": tokens[role, county]})
        assert outcome(response) == "sign in", role


def test_posts_without_a_csrf_token_are_refused(app, world):
    admin = signed_in_as(app, "zhao", "admin")
    anonymous = app.test_client()
    for endpoint, method, rule in admin_rules(app):
        if method != "POST":
            continue
        path = path_for(rule, world, HOME)
        for client in (admin, anonymous):
            response = client.post(path, data=FORMS.get(endpoint, {}))
            assert response.status_code == 400, (path, response.status_code)
