"""Union levels: staff see and act on their own organisation's workers and those below it,
never beside or above; the county sees everything, including what nobody matched.

The workers apply and sign up through the webhook, naming their union as they would, so
each test also shows the answer reaching the right organisation.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from bot.admin.permissions import ROLES
from models import (
    AidApplication,
    AuditEntry,
    Competition,
    CompetitionEntry,
    Follower,
    HandoffRequest,
    OutboxMessage,
)
from models.outbox import enqueue_notice
from models.staff import find_staff
from tests.bot.admin.access_support import add_staff, signed_in_as
from tests.bot.admin.access_support import post_on_staff_page as post
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

# Who applies, and the union they name in the form ("所在工会").
UNIONS = {
    "rider": "骑手工会",  # grassroots, under 合德镇
    "hede": "合德镇工会",  # the town
    "linhai": "临海镇工会",  # another town
    "unknown": "环卫处工会",  # in no registry: the county's
}


@pytest.fixture
def applied(wechat, db) -> dict[str, str]:
    """One application per worker of ``UNIONS``: their references by worker."""
    open_all_windows(db)
    references = {}
    for n, (who, union) in enumerate(UNIONS.items()):
        reply = apply(Worker(wechat, f"o_{who}"), "hardship", answers=hardship_naming(union, n))
        references[who] = REFERENCE.search(reply).group(0)
    return references


def listed(client) -> set[str]:
    return set(REFERENCE.findall(client.get("/admin/applications").get_data(as_text=True)))


def follower_id(db, who: str) -> int:
    return db.scalars(select(Follower.id).where(Follower.openid == f"o_{who}")).one()


class TestApplications:
    def test_the_answer_reaches_the_named_union_and_an_unknown_one_none(self, applied, db):
        orgs = dict(db.execute(select(AidApplication.reference, AidApplication.org_code)).all())
        assert {who: orgs[ref] for who, ref in applied.items()} == {
            "rider": "riders",
            "hede": "hede",
            "linhai": "linhai",
            "unknown": None,
        }

    def test_each_level_lists_its_own_and_those_below(self, app, applied):
        assert listed(signed_in_as(app, "zhao", "admin")) == set(applied.values())
        assert listed(signed_in_as(app, "he", "reviewer", "hede")) == {
            applied["rider"],
            applied["hede"],
        }
        assert listed(signed_in_as(app, "qi", "reviewer", "riders")) == {applied["rider"]}
        assert listed(signed_in_as(app, "lin", "viewer", "linhai")) == {applied["linhai"]}

    def test_another_organisations_application_is_not_found(self, app, applied, db):
        town = signed_in_as(app, "he", "reviewer", "hede")
        for outside in ("linhai", "unknown"):
            assert town.get(f"/admin/applications/{applied[outside]}").status_code == 404
        grassroots = signed_in_as(app, "qi", "reviewer", "riders")
        assert grassroots.get(f"/admin/applications/{applied['hede']}").status_code == 404

        token = csrf_token(town, "/admin/applications")
        path = f"/admin/applications/{applied['linhai']}"
        decided = town.post(f"{path}/decision", data={"to_status": "approved", "csrf_token": token})
        revealed = town.post(
            f"{path}/reveal", data={"field": "id_number", "reason": "verify", "csrf_token": token}
        )
        assert (decided.status_code, revealed.status_code) == (404, 404)
        db.expire_all()
        linhai = db.scalars(
            select(AidApplication).where(AidApplication.reference == applied["linhai"])
        ).one()
        assert linhai.status == "submitted"
        touched = select(AuditEntry).where(AuditEntry.subject == applied["linhai"])
        assert db.scalars(touched).all() == []

    def test_the_own_unions_application_is_decided_and_shows_its_union(self, app, applied, db):
        town = signed_in_as(app, "he", "reviewer", "hede")
        page = town.get(f"/admin/applications/{applied['rider']}").get_data(as_text=True)
        assert "合德镇快递外卖骑手联合工会" in page
        decided = town.post(
            f"/admin/applications/{applied['rider']}/decision",
            data={"to_status": "approved", "csrf_token": csrf_token(town, "/admin/applications")},
        )
        assert decided.status_code == 302
        county = signed_in_as(app, "zhao", "admin")
        unknown = county.get(f"/admin/applications/{applied['unknown']}")
        assert "未匹配（县总工会处理）" in unknown.get_data(as_text=True)

    def test_dashboard_counts_only_what_the_staff_member_may_see(self, app, applied):
        def undecided(client) -> int:
            page = client.get("/admin/").get_data(as_text=True)
            return int(re.search(r"待处理申请</a><b>(\d+)</b>", page).group(1))

        assert undecided(signed_in_as(app, "zhao", "admin")) == 4
        assert undecided(signed_in_as(app, "he", "reviewer", "hede")) == 2
        assert undecided(signed_in_as(app, "qi", "reviewer", "riders")) == 1

    def test_transcripts_of_other_unions_workers_are_not_found(self, app, applied, db):
        town = signed_in_as(app, "he", "reviewer", "hede")
        assert town.get(f"/admin/followers/{follower_id(db, 'rider')}").status_code == 200
        for outside in ("linhai", "unknown"):
            assert town.get(f"/admin/followers/{follower_id(db, outside)}").status_code == 404
        page = town.get("/admin/").get_data(as_text=True)
        assert f"/admin/followers/{follower_id(db, 'linhai')}" not in page
        assert f"/admin/followers/{follower_id(db, 'rider')}" in page

    def test_call_backs_of_other_unions_workers_are_hidden(self, app, applied, wechat, db):
        for who in ("rider", "linhai"):
            Worker(wechat, f"o_{who}").say("人工")
        town = signed_in_as(app, "he", "reviewer", "hede")
        page = town.get("/admin/handoffs").get_data(as_text=True)
        assert page.count("已联系</button>") == 1
        linhai = db.scalars(select(Follower).where(Follower.openid == "o_linhai")).one()
        request_id = re.search(r'id="handoff-(\d+)"', page).group(1)
        token = csrf_token(town, "/admin/handoffs")
        assert town.post(f"/admin/handoffs/{request_id}/done", data={"csrf_token": token})
        other = db.scalars(
            select(HandoffRequest.id).where(HandoffRequest.follower_id == linhai.id)
        ).one()
        done = town.post(f"/admin/handoffs/{other}/done", data={"csrf_token": token})
        assert done.status_code == 404

    def test_undelivered_notices_to_other_unions_workers_are_hidden(self, app, applied, db):
        for who in ("rider", "linhai"):
            enqueue_notice(
                db,
                key=f"n-{who}",
                kind="aid.decision",
                follower_id=follower_id(db, who),
                openid=f"o_{who}",
                text=f"通知{who}：请补充材料",
            )
        db.execute(update(OutboxMessage).values(status="dead"))
        db.commit()
        town = signed_in_as(app, "he", "reviewer", "hede").get("/admin/outbox")
        assert "通知rider" in town.get_data(as_text=True)
        assert "通知linhai" not in town.get_data(as_text=True)
        county = signed_in_as(app, "zhao", "admin").get("/admin/outbox").get_data(as_text=True)
        assert "通知rider" in county and "通知linhai" in county


class TestSignUps:
    @pytest.fixture
    def entries(self, wechat, db) -> dict[str | None, int]:
        """Sign-ups to 叉车 by a wind-power worker (港区), a textile worker (开发区) and a
        builder no union registry knows; their entry ids by the organisation recorded."""
        db.execute(update(Competition).values(opens="01-01", closes="01-02"))
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(opens=None, closes=None, capacity=None, per_unit=None)
        )
        db.commit()
        for n, employer in enumerate(("射阳港风电装备公司", "金海纺织", "某建筑公司")):
            assert "报名成功" in sign_up(Worker(wechat, f"o_entrant{n}"), valid_id(n), employer)
        rows = db.execute(select(CompetitionEntry.org_code, CompetitionEntry.id))
        return dict(rows.all())

    def cancel(self, client, entry_id: int):
        return client.post(
            f"/admin/competitions/forklift/entries/{entry_id}/cancel",
            data={"csrf_token": csrf_token(client, "/admin/competitions")},
        )

    def test_employers_reach_their_unions(self, entries):
        assert set(entries) == {"gangqu_wind", "jinhai_textile", None}

    def test_a_town_operator_sees_and_cancels_only_its_own_workers(self, app, entries):
        wind, textile, builder = (entries[code] for code in ("gangqu_wind", "jinhai_textile", None))
        town = signed_in_as(app, "kai", "operator", "kaifaqu")
        page = town.get("/admin/competitions/forklift").get_data(as_text=True)
        shown = set(map(int, re.findall(r"/entries/(\d+)/cancel", page)))
        assert shown == {textile}
        assert "正式参赛 3 人" in page  # the places taken, counted for the whole county
        assert self.cancel(town, wind).status_code == 404
        assert self.cancel(town, builder).status_code == 404
        assert self.cancel(town, textile).status_code == 302

        county = signed_in_as(app, "zhao", "operator")
        page = county.get("/admin/competitions/forklift").get_data(as_text=True)
        assert set(map(int, re.findall(r"/entries/(\d+)/cancel", page))) == {wind, builder}

    def test_only_the_county_changes_a_competitions_settings(self, app, db):
        town = signed_in_as(app, "kai", "operator", "kaifaqu")
        page = town.get("/admin/competitions/forklift").get_data(as_text=True)
        assert "比赛设置由县总工会统一修改" in page and "保存设置" not in page
        response = town.post(
            "/admin/competitions/forklift",
            data={"csrf_token": csrf_token(town, "/admin/competitions"), "all_year": "y"},
        )
        assert response.status_code == 403
        db.expire_all()
        assert db.get(Competition, "forklift").opens == "11-01"
        county = signed_in_as(app, "zhao", "operator")
        assert "保存设置" in county.get("/admin/competitions/forklift").get_data(as_text=True)


class TestStaffAccounts:
    """A town's admin manages its own union's accounts and those below it, and cannot
    make or move an account beyond them."""

    @pytest.fixture
    def town_admin(self, app):
        for username, org in [("rider_rev", "riders"), ("lin_rev", "linhai"), ("xian", "sheyang")]:
            add_staff(app, username, "reviewer", org)
        return signed_in_as(app, "he", "admin", "hede")

    def test_the_list_holds_only_accounts_within_reach(self, town_admin):
        page = town_admin.get("/admin/staff").get_data(as_text=True)
        assert "rider_rev" in page and "he 同志" in page
        assert "lin_rev" not in page and "xian" not in page

    def test_an_account_elsewhere_is_not_found(self, town_admin, db):
        for username in ("lin_rev", "xian"):
            staff = find_staff(db, username)
            assert town_admin.get(f"/admin/staff/{staff.id}/edit").status_code == 404
            assert post(town_admin, f"/admin/staff/{staff.id}/reset").status_code == 404
            assert post(town_admin, f"/admin/staff/{staff.id}/active").status_code == 404
        db.rollback()
        assert find_staff(db, "xian").active and find_staff(db, "lin_rev").active

    def test_a_new_account_can_belong_only_to_a_union_within_reach(self, town_admin, db):
        form = town_admin.get("/admin/staff/new").get_data(as_text=True)
        offered = set(re.findall(r'<option[^>]*value="([^"]+)"', form)) - set(ROLES)
        assert {"hede", "riders"} <= offered
        assert not offered & {"sheyang", "linhai", "linhai_coop"}
        account = {"display_name": "新同事", "role": "admin"}
        refused = post(
            town_admin, "/admin/staff/new", username="up", org_code="sheyang", **account
        )
        created = post(
            town_admin, "/admin/staff/new", username="down", org_code="riders", **account
        )
        assert refused.status_code == 400 and "账号已创建" in created.get_data(as_text=True)
        db.rollback()
        assert find_staff(db, "up") is None and find_staff(db, "down").org_code == "riders"

    def test_an_account_cannot_be_moved_out_of_reach(self, town_admin, db):
        staff = find_staff(db, "rider_rev")
        moved = post(
            town_admin, f"/admin/staff/{staff.id}/edit", role="reviewer", org_code="linhai"
        )
        assert moved.status_code == 400
        db.rollback()
        assert find_staff(db, "rider_rev").org_code == "riders"
