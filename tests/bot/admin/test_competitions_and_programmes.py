"""Staff keep the catalogue: competitions (settings, entrants, cancel) and aid programmes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from models import AidProgramme, AuditEntry, Competition, CompetitionEntry, Follower, OutboxMessage
from models.aid import person_hash
from models.base import utcnow
from models.staff import upsert_staff
from models.windows import window_on
from tests.helpers import PASSWORD, Worker, apply, csrf_token, login, open_all_windows, valid_id

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WANG = "320924198503120022"
PHONE = "13812345678"


@pytest.fixture
def staff(app):
    with app.extensions["unionbot"].session_factory.begin() as session:
        upsert_staff(session, "wang", PASSWORD, "王科长", role="reviewer")
        upsert_staff(session, "zhao", PASSWORD, "赵主席", role="admin")
        upsert_staff(session, "li", PASSWORD, "李干事", role="viewer")


@pytest.fixture
def signed_in(client, staff):
    assert login(client, "zhao").status_code == 302
    return client


def season_now() -> int:
    """The season of an all-year competition: this year in Beijing."""
    return window_on(None, None, utcnow().astimezone(SHANGHAI).date()).season


@pytest.fixture
def forklift(db):
    """叉车 open all year with two places, so entries count for this year."""
    db.execute(
        update(Competition)
        .where(Competition.code == "forklift")
        .values(opens=None, closes=None, capacity=2, per_unit=None)
    )
    db.commit()


def add_entry(
    app,
    n: int,
    status: str,
    name: str = "王秀梅",
    code: str = "forklift",
    id_number: str | None = None,
) -> int:
    """An entry as the chat leaves it, written through the ORM; returns its id."""
    id_number = id_number or valid_id(n)
    now = utcnow() + dt.timedelta(seconds=n)
    season = season_now()
    with app.extensions["unionbot"].session_factory.begin() as session:
        follower = Follower(openid=f"o_entrant_{n}")
        session.add(follower)
        session.flush()
        entry = CompetitionEntry(
            competition_code=code,
            follower_id=follower.id,
            season=season,
            status=status,
            answers={"name": name, "id_number": id_number, "phone": PHONE, "employer": "风电公司"},
            unit="风电公司",
            id_hash=person_hash(id_number),
            person_key=f"{code}:{season}:{person_hash(id_number)}",
            created_at=now,
            updated_at=now,
        )
        session.add(entry)
        session.flush()
        return entry.id


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def listing(client) -> str:
    """The competitions table alone (the page's CSRF token is signed with the time)."""
    html = page(client, "/admin/competitions")
    return html[html.index("<table>") : html.index("</table>")]


def settings_form(client, code: str = "forklift", **changes) -> dict:
    """What the browser posts for the competition's form, with ``changes``."""
    data = {
        "opens": "11-01",
        "closes": "12-10",
        "event_on": "12-18",
        "event_time": "08:30",
        "place": "县职工技能实训中心（合德镇）",
        "capacity": "20",
        "per_unit": "2",
        "active": "y",
        "results": "",
        "csrf_token": csrf_token(client, f"/admin/competitions/{code}"),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def edit(client, code: str = "forklift", **changes):
    return client.post(f"/admin/competitions/{code}", data=settings_form(client, code, **changes))


def cancel(client, entry_id: int, code: str = "forklift", token: bool = True):
    data = {"csrf_token": csrf_token(client, f"/admin/competitions/{code}")} if token else {}
    return client.post(f"/admin/competitions/{code}/entries/{entry_id}/cancel", data=data)


def audits(db, action: str | None = None) -> list[AuditEntry]:
    db.rollback()
    # Sign-ins are audited too; these tests are about the edits.
    query = select(AuditEntry).where(AuditEntry.action != "login").order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.scalars(query))


def row(db, model, code: str):
    db.rollback()
    return db.get(model, code, populate_existing=True)


class TestAccess:
    @pytest.mark.parametrize(
        "path",
        [
            "/admin/competitions",
            "/admin/competitions/forklift",
            "/admin/programmes",
            "/admin/programmes/hardship",
        ],
    )
    def test_anonymous_is_sent_to_login(self, client, path):
        response = client.get(path)
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]

    def test_anonymous_post_is_sent_to_login_and_changes_nothing(self, client, db):
        token = csrf_token(client)  # the login page's: a valid token, but nobody signed in
        response = client.post(
            "/admin/competitions/forklift",
            data={"csrf_token": token, "all_year": "y", "event_time": "09:00"},
        )
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
        assert row(db, Competition, "forklift").opens == "11-01"

    def test_nav_links_to_both_pages(self, signed_in):
        html = page(signed_in, "/admin/")
        assert 'href="/admin/competitions"' in html and 'href="/admin/programmes"' in html

    def test_unknown_codes_are_404(self, signed_in):
        assert signed_in.get("/admin/competitions/nope").status_code == 404
        assert signed_in.get("/admin/programmes/nope").status_code == 404

    def test_other_roles_may_look_but_not_change(self, client, staff, db):
        assert login(client, "li").status_code == 302
        html = page(client, "/admin/competitions/forklift")
        assert "没有修改权限" in html and "保存设置" not in html
        token = csrf_token(client, "/admin/competitions")
        response = client.post(
            "/admin/competitions/forklift",
            data={"csrf_token": token, "all_year": "y", "event_time": "09:00"},
        )
        assert response.status_code == 403
        assert row(db, Competition, "forklift").opens == "11-01"


class TestCompetitionList:
    def test_lists_the_seeded_competitions_with_window_event_and_places(self, signed_in, db):
        html = page(signed_in, "/admin/competitions")
        for competition in db.scalars(select(Competition)):
            assert competition.title in html
        assert "冬季岗位练兵·叉车司机技能比武" in html and "节能减排金点子" in html
        assert "每年11月1日至12月10日" in html
        assert "12月18日 08:30" in html and "县职工技能实训中心（合德镇）" in html
        assert "0/20" in html  # 叉车: nobody yet, 20 places
        assert "0/不限" in html  # 金点子: no limit
        assert "全年" in html  # 金点子 takes ideas all year
        assert "技能竞赛" in html and "启用" in html

    def test_counts_confirmed_and_waitlisted_of_this_season(self, app, signed_in, forklift):
        add_entry(app, 1, "confirmed")
        add_entry(app, 2, "confirmed")
        add_entry(app, 3, "waitlisted")
        add_entry(app, 4, "cancelled")
        html = page(signed_in, "/admin/competitions")
        assert "2/2" in html
        assert "<td>1</td>" in html  # one waiting


class TestEditCompetition:
    def test_changes_window_capacity_and_results_and_is_audited(self, signed_in, db):
        response = edit(
            signed_in, opens="10-15", closes="11-30", capacity="30", results="一等奖：王*梅"
        )
        assert response.status_code == 302
        competition = row(db, Competition, "forklift")
        assert (competition.opens, competition.closes) == ("10-15", "11-30")
        assert competition.capacity == 30 and competition.results == "一等奖：王*梅"
        assert competition.event_time == "08:30" and competition.per_unit == 2  # untouched
        [entry] = audits(db)
        assert (entry.actor, entry.action, entry.subject) == ("staff:zhao", "edit", "forklift")
        assert entry.detail == "opens,closes,capacity,results"
        detail = page(signed_in, "/admin/competitions/forklift")  # the next page shows the flash
        assert "已保存：报名开始、报名截止、名额、比赛结果。" in detail
        assert "修改设置" in detail and "工作人员 zhao" in detail
        html = page(signed_in, "/admin/competitions")
        assert "每年10月15日至11月30日" in html and "0/30" in html and "已登记结果" in html

    def test_all_year_and_unlimited(self, signed_in, db):
        response = edit(signed_in, all_year="y", capacity="", per_unit="", event_on="")
        assert response.status_code == 302
        competition = row(db, Competition, "forklift")
        assert competition.opens is None and competition.closes is None
        assert competition.capacity is None and competition.per_unit is None
        assert competition.event_on is None
        html = page(signed_in, "/admin/competitions")
        assert "0/不限" in html

    def test_loose_input_is_normalised(self, signed_in, db):
        assert edit(signed_in, opens="3/1", closes="6-5", event_time="8:05").status_code == 302
        competition = row(db, Competition, "forklift")
        assert (competition.opens, competition.closes, competition.event_time) == (
            "03-01",
            "06-05",
            "08:05",
        )

    def test_window_may_wrap_the_new_year(self, signed_in, db):
        assert edit(signed_in, opens="12-15", closes="02-28").status_code == 302
        assert "每年12月15日至次年2月28日" in page(signed_in, "/admin/competitions")

    def test_deactivating(self, signed_in, db):
        data = settings_form(signed_in)
        del data["active"]  # an unticked checkbox is not posted
        assert signed_in.post("/admin/competitions/forklift", data=data).status_code == 302
        assert row(db, Competition, "forklift").active is False
        assert [e.detail for e in audits(db)] == ["active"]

    def test_saving_unchanged_writes_no_audit(self, signed_in, db):
        assert edit(signed_in).status_code == 302
        assert audits(db) == []
        assert "没有修改" in page(signed_in, "/admin/competitions/forklift")

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"opens": "13-40"}, "开始日期“13-40”不是有效的日期"),
            ({"closes": "02-30"}, "截止日期“02-30”不是有效的日期"),
            ({"opens": ""}, "请填写开始日期"),
            ({"capacity": "-1"}, "名额“-1”无效：请填写正整数，留空表示不限。"),
            ({"capacity": "0"}, "名额“0”无效"),
            ({"per_unit": "两"}, "每单位限报人数“两”无效"),
            ({"event_time": "25:00"}, "比赛时间“25:00”不是有效的时间"),
            ({"event_on": "12-32"}, "比赛日期“12-32”不是有效的日期"),
        ],
    )
    def test_invalid_input_is_refused_and_changes_nothing(self, signed_in, db, changes, message):
        before = listing(signed_in)
        # Every other field valid and changed: one bad value refuses the whole form.
        response = edit(
            signed_in, **{"opens": "10-15", "capacity": "30", "results": "新结果", **changes}
        )
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert message in html
        competition = row(db, Competition, "forklift")
        assert (competition.opens, competition.capacity, competition.results) == ("11-01", 20, None)
        assert competition.event_time == "08:30"
        assert audits(db) == []
        assert listing(signed_in) == before

    def test_csrf_is_enforced(self, signed_in, db):
        data = settings_form(signed_in, capacity="30")
        del data["csrf_token"]
        assert signed_in.post("/admin/competitions/forklift", data=data).status_code == 400
        data["csrf_token"] = "forged"
        assert signed_in.post("/admin/competitions/forklift", data=data).status_code == 400
        assert row(db, Competition, "forklift").capacity == 20
        assert audits(db) == []

    def test_page_says_fewer_places_cancel_nobody(self, signed_in):
        assert "减少名额不会取消任何人的报名" in page(signed_in, "/admin/competitions/forklift")


class TestEntrants:
    def test_confirmed_first_then_waitlist_in_order_masked(self, app, signed_in, forklift):
        add_entry(app, 3, "waitlisted", name="赵六")
        add_entry(app, 1, "confirmed", name="王秀梅", id_number=WANG)
        add_entry(app, 2, "confirmed", name="李梅")
        add_entry(app, 4, "waitlisted", name="欧阳小明")
        add_entry(app, 5, "cancelled", name="钱七")
        html = page(signed_in, "/admin/competitions/forklift")
        order = [html.index(name) for name in ("王*梅", "李*", "赵*", "欧**明")]
        assert order == sorted(order)
        assert "候补第1位" in html and "候补第2位" in html
        assert "钱*" not in html  # cancelled entries are not listed
        for raw in ("王秀梅", "李梅", "赵六", "欧阳小明", WANG, PHONE, valid_id(2)):
            assert raw not in html
        assert "138****5678" in html and "风电公司" in html
        assert "正式参赛 2 人" in html and "候补 2 人" in html and "已取消 1 人" in html

    def test_entries_of_other_seasons_are_not_shown(self, app, signed_in, forklift, db):
        entry_id = add_entry(app, 1, "confirmed", name="王秀梅")
        db.execute(
            update(CompetitionEntry)
            .where(CompetitionEntry.id == entry_id)
            .values(season=season_now() - 1)
        )
        db.commit()
        assert "王*梅" not in page(signed_in, "/admin/competitions/forklift")


class TestStaffCancel:
    def test_cancelling_a_confirmed_entry_promotes_the_first_waiting(
        self, app, signed_in, forklift, db
    ):
        first = add_entry(app, 1, "confirmed", name="王秀梅")
        add_entry(app, 2, "confirmed", name="李梅")
        waiting = add_entry(app, 3, "waitlisted", name="赵六")
        second = add_entry(app, 4, "waitlisted", name="孙七")
        response = cancel(signed_in, first)
        assert response.status_code == 302
        db.rollback()
        status = dict(db.execute(select(CompetitionEntry.id, CompetitionEntry.status)).all())
        assert status[first] == "cancelled"
        assert status[waiting] == "confirmed"
        assert status[second] == "waitlisted"
        assert db.get(CompetitionEntry, first).person_key is None  # may sign up again
        [notice] = db.scalars(select(OutboxMessage)).all()
        assert notice.kind == "competition_promoted"
        promoted = db.get(CompetitionEntry, waiting)
        assert notice.follower_id == promoted.follower_id
        assert "冬季岗位练兵·叉车司机技能比武" in notice.payload["text"]
        [entry] = audits(db, "cancel")
        assert (entry.actor, entry.subject) == ("staff:zhao", "forklift")
        assert entry.detail == f"entry {first}; promoted entry {waiting}"
        html = page(signed_in, "/admin/competitions/forklift")
        assert "已取消 王*梅 的报名" in html and "赵* 已递补为正式参赛" in html
        assert "候补第1位" in html and "孙*" in html  # 孙七 moved up

    def test_cancelling_twice_does_not_promote_twice(self, app, signed_in, forklift, db):
        first = add_entry(app, 1, "confirmed")
        add_entry(app, 4, "confirmed")  # both places taken
        add_entry(app, 2, "waitlisted")
        add_entry(app, 3, "waitlisted")
        assert cancel(signed_in, first).status_code == 302
        assert cancel(signed_in, first).status_code == 302
        db.rollback()
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert (
            db.scalar(
                select(func.count())
                .select_from(CompetitionEntry)
                .where(CompetitionEntry.status == "waitlisted")
            )
            == 1
        )
        assert len(audits(db, "cancel")) == 1
        assert "已经取消" in page(signed_in, "/admin/competitions/forklift")

    def test_cancelling_a_waitlisted_entry_promotes_nobody(self, app, signed_in, forklift, db):
        add_entry(app, 1, "confirmed")
        waiting = add_entry(app, 2, "waitlisted")
        assert cancel(signed_in, waiting).status_code == 302
        db.rollback()
        assert db.get(CompetitionEntry, waiting).status == "cancelled"
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert [e.detail for e in audits(db, "cancel")] == [f"entry {waiting}"]

    def test_csrf_is_enforced(self, app, signed_in, forklift, db):
        first = add_entry(app, 1, "confirmed")
        add_entry(app, 2, "waitlisted")
        assert cancel(signed_in, first, token=False).status_code == 400
        db.rollback()
        assert db.get(CompetitionEntry, first).status == "confirmed"
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert audits(db) == []

    def test_entry_of_another_competition_is_404(self, app, signed_in, forklift, db):
        entry = add_entry(app, 1, "confirmed", code="welder")
        assert cancel(signed_in, entry).status_code == 404
        assert cancel(signed_in, 999_999).status_code == 404
        db.rollback()
        assert db.get(CompetitionEntry, entry).status == "confirmed"

    def test_other_roles_cannot_cancel(self, app, client, staff, forklift, db):
        entry = add_entry(app, 1, "confirmed")
        assert login(client, "li").status_code == 302
        assert cancel(client, entry).status_code == 403
        db.rollback()
        assert db.get(CompetitionEntry, entry).status == "confirmed"

    def test_chat_sign_ups_cancelled_by_staff(self, app, wechat, signed_in, db):
        """Entries made through the webhook: staff cancel, the waiting worker is told."""
        db.execute(update(Competition).values(opens="01-01", closes="01-02"))
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(opens=None, closes=None, capacity=1, per_unit=2)
        )
        db.commit()
        for openid, n, name in (("o_first", 11, "王秀梅"), ("o_second", 12, "李梅")):
            worker = Worker(wechat, openid)
            worker.say("竞赛")
            worker.say("1")
            worker.say("报名")
            worker.run(["同意", name, valid_id(n), PHONE, "风电装备公司", "叉车司机", "5", "无"])
            worker.say("跳过")
            worker.say("确认")
        db.rollback()
        entries = db.scalars(select(CompetitionEntry).order_by(CompetitionEntry.id)).all()
        assert [e.status for e in entries] == ["confirmed", "waitlisted"]
        html = page(signed_in, "/admin/competitions/forklift")
        assert "王*梅" in html and "李*" in html and "候补第1位" in html
        assert valid_id(11) not in html and valid_id(12) not in html
        assert cancel(signed_in, entries[0].id).status_code == 302
        db.rollback()
        assert db.get(CompetitionEntry, entries[1].id, populate_existing=True).status == (
            "confirmed"
        )
        [notice] = db.scalars(select(OutboxMessage)).all()
        assert notice.kind == "competition_promoted" and notice.recipient == "o_second"
        assert "1 冬季岗位练兵·叉车司机技能比武｜已报名" in Worker(wechat, "o_second").say(
            "我的报名"
        )


class TestProgrammes:
    def test_list_shows_programmes_with_window_and_state(self, signed_in, db):
        html = page(signed_in, "/admin/programmes")
        for programme in db.scalars(select(AidProgramme)):
            assert programme.name in html
        assert "每年12月15日至次年2月28日" in html  # 冬送温暖 wraps the new year
        assert "每年7月1日至8月25日" in html
        assert "全年" in html  # 困难职工帮扶
        assert "启用" in html

    def test_edit_window_active_and_summary_is_audited(self, signed_in, db):
        token = csrf_token(signed_in, "/admin/programmes/jinqiu")
        response = signed_in.post(
            "/admin/programmes/jinqiu",
            data={"csrf_token": token, "opens": "6-20", "closes": "08-31", "summary": "新的简介"},
        )
        assert response.status_code == 302
        programme = row(db, AidProgramme, "jinqiu")
        assert (programme.opens, programme.closes) == ("06-20", "08-31")
        assert programme.active is False and programme.summary == "新的简介"
        [entry] = audits(db)
        assert (entry.actor, entry.action, entry.subject) == ("staff:zhao", "edit", "jinqiu")
        assert entry.detail == "opens,closes,active,summary"
        assert "每年6月20日至8月31日" in page(signed_in, "/admin/programmes")

    def test_capped_programme_shows_places_taken_per_station(self, signed_in, db, wechat):
        open_all_windows(db)
        assert "提交成功" in apply(Worker(wechat, "o_rider"), "summer")
        html = page(signed_in, "/admin/programmes/summer")
        assert "本季名额" in html
        row_html = "<td>合德镇户外劳动者驿站</td><td>200份</td><td>1</td><td>199份</td>"
        assert row_html in html
        assert "本季名额" not in page(signed_in, "/admin/programmes/hardship")

    def test_station_limits_are_edited_and_audited(self, signed_in, db):
        form = page(signed_in, "/admin/programmes/summer")
        assert "合德镇户外劳动者驿站 200" in form  # the current limits, one per line
        token = csrf_token(signed_in, "/admin/programmes/summer")
        summer = row(db, AidProgramme, "summer")
        data = {"csrf_token": token, "opens": "06-01", "closes": "09-15", "active": "y"}
        data["summary"] = summer.summary
        data["limits"] = "合德镇户外劳动者驿站 5\n海河镇户外劳动者驿站：0"
        assert signed_in.post("/admin/programmes/summer", data=data).status_code == 302
        limits = row(db, AidProgramme, "summer").definition["quota"]["limits"]
        assert limits["合德镇户外劳动者驿站"] == 5 and limits["海河镇户外劳动者驿站"] == 0
        assert limits["县总工会职工服务中心"] == 300  # left out, kept
        assert [e.detail for e in audits(db)] == ["definition"]

    @pytest.mark.parametrize(
        ("typed", "error"),
        [("火星驿站 10", "没有“火星驿站”这个地点"), ("合德镇户外劳动者驿站", "第1行应为")],
    )
    def test_bad_station_limits_are_refused(self, signed_in, db, typed, error):
        token = csrf_token(signed_in, "/admin/programmes/summer")
        summer = row(db, AidProgramme, "summer")
        data = {"csrf_token": token, "all_year": "y", "summary": summer.summary, "limits": typed}
        response = signed_in.post("/admin/programmes/summer", data=data)
        assert response.status_code == 400
        assert error in response.get_data(as_text=True)
        assert row(db, AidProgramme, "summer").opens == "06-01"  # nothing saved

    def test_all_year(self, signed_in, db):
        token = csrf_token(signed_in, "/admin/programmes/winter")
        summary = row(db, AidProgramme, "winter").summary
        response = signed_in.post(
            "/admin/programmes/winter",
            data={"csrf_token": token, "all_year": "y", "active": "y", "summary": summary},
        )
        assert response.status_code == 302
        programme = row(db, AidProgramme, "winter")
        assert programme.opens is None and programme.closes is None
        assert [e.detail for e in audits(db)] == ["opens,closes"]

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"opens": "13-40"}, "开始日期“13-40”不是有效的日期"),
            ({"closes": ""}, "请填写截止日期"),
            ({"summary": "  "}, "请填写简介"),
        ],
    )
    def test_invalid_input_is_refused_and_changes_nothing(self, signed_in, db, changes, message):
        token = csrf_token(signed_in, "/admin/programmes/jinqiu")
        data = {
            "csrf_token": token,
            "opens": "07-01",
            "closes": "08-25",
            "active": "y",
            "summary": "新的简介",
            **changes,
        }
        response = signed_in.post("/admin/programmes/jinqiu", data=data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
        programme = row(db, AidProgramme, "jinqiu")
        assert programme.summary != "新的简介" and programme.opens == "07-01"
        assert audits(db) == []

    def test_csrf_is_enforced(self, signed_in, db):
        response = signed_in.post(
            "/admin/programmes/jinqiu", data={"all_year": "y", "active": "y", "summary": "x"}
        )
        assert response.status_code == 400
        assert row(db, AidProgramme, "jinqiu").opens == "07-01"
        assert audits(db) == []
