"""Competition sign-up through the webhook: listing, details, rules, waitlist, cancel, reminders."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text, update

from bot import jobs
from models import Competition, CompetitionEntry, OutboxMessage
from models.waitlist import promote_waitlist
from models.windows import SHANGHAI
from tests.helpers import Worker, sign_up, valid_id

WANG = "320924198503120022"


def open_only(db, code: str, **values) -> None:
    """Staff's view of the season: ``code`` open today (with ``values``), the rest closed."""
    db.execute(update(Competition).values(opens="01-01", closes="01-02"))
    db.execute(
        update(Competition)
        .where(Competition.code == code)
        .values(opens=None, closes=None, **values)
    )
    db.commit()


@pytest.fixture
def forklift(db):
    open_only(db, "forklift", capacity=2, per_unit=2)


class TestListing:
    def test_open_competitions_are_numbered_with_deadline_and_places(self, wechat, db):
        db.execute(update(Competition).values(opens="01-01", closes="01-02"))
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(opens="01-01", closes="12-31")
        )
        db.execute(
            update(Competition)
            .where(Competition.code == "energy_idea")
            .values(opens=None, closes=None)
        )
        db.commit()
        listing = Worker(wechat).say("竞赛")
        assert "1 冬季岗位练兵·叉车司机技能比武｜截止12月31日｜剩余20个名额（共20个）" in listing
        assert "2 节能减排金点子｜常年征集｜不限名额" in listing
        assert "焊工" not in listing

    def test_number_shows_details_then_报名_starts_the_form(self, wechat, forklift):
        worker = Worker(wechat)
        worker.say("竞赛")
        details = worker.say("1")
        assert "【冬季岗位练兵·叉车司机技能比武】" in details
        assert "比赛时间：12月18日 08:30" in details and "每个单位最多报2人" in details
        assert "回复“报名”开始报名" in details
        assert "个人信息保护告知" in worker.say("报名")

    def test_nothing_open_says_so(self, wechat, db):
        db.execute(update(Competition).values(opens="01-01", closes="01-02"))
        db.commit()
        assert "目前没有正在报名的竞赛" in Worker(wechat).say("竞赛")

    def test_menu_click_lists_competitions(self, wechat, forklift):
        assert "正在报名的竞赛" in wechat.send_event("o_w", "CLICK", "COMPETITION").text

    @pytest.mark.parametrize("question", ["焊工比赛还能报名吗？", "焊工比赛", "电焊比赛什么时候"])
    def test_a_question_about_a_closed_contest_gets_its_status(self, wechat, forklift, question):
        reply = Worker(wechat).say(question)
        assert "【焊工职业技能竞赛】" in reply and "现在不在报名期" in reply


class TestRules:
    def test_sign_up_confirms_and_stores_the_entry_encrypted(self, wechat, db, forklift):
        reply = sign_up(Worker(wechat), WANG)
        assert "报名成功" in reply and "12月18日 08:30" in reply
        entry = db.scalars(select(CompetitionEntry)).one()
        assert (entry.status, entry.answers["id_number"]) == ("confirmed", WANG)
        raw = " ".join(str(v) for v in db.execute(text("SELECT * FROM competition_entries")).one())
        assert WANG not in raw and "13812345678" not in raw

    def test_same_person_cannot_sign_up_twice(self, wechat, forklift):
        sign_up(Worker(wechat, "o_a"), WANG)
        again = Worker(wechat, "o_b")
        again.say("竞赛")
        again.say("1")
        again.say("报名")
        reply = again.run(["同意", "王秀梅", WANG])
        assert "该身份证号已经报名了" in reply and "不能重复报名" in reply

    def test_per_unit_quota(self, wechat, db, forklift):
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(per_unit=1, capacity=10)
        )
        db.commit()
        sign_up(Worker(wechat, "o_a"), WANG, employer="风电装备 公司")
        other = Worker(wechat, "o_b")
        other.say("竞赛")
        other.say("1")
        other.say("报名")
        reply = other.run(["同意", "周平", valid_id(1), "13912345678", "风电装备公司"])
        assert "您的单位已有1人报名" in reply and "每个单位最多1人" in reply

    def test_window_closed(self, wechat, db):
        db.execute(update(Competition).values(opens="01-01", closes="01-02"))
        db.commit()
        reply = Worker(wechat).say("我要报名焊工比赛")
        assert "现在不在报名期" in reply

    def test_full_contest_offers_the_waitlist_with_position(self, wechat, db, forklift):
        sign_up(Worker(wechat, "o_a"), valid_id(1), employer="甲公司")
        sign_up(Worker(wechat, "o_b"), valid_id(2), employer="乙公司")
        third = Worker(wechat, "o_c")
        third.say("竞赛")
        assert "名额已满" in third.say("1")
        assert "报名后将进入候补" in third.say("报名")
        third.run(["同意", "周平", valid_id(3), "13912345678", "丙公司", "叉车司机", "2", "无"])
        third.say("跳过")
        assert "候补第1位" in third.say("确认")
        fourth = sign_up(Worker(wechat, "o_d"), valid_id(4), employer="丁公司")
        assert "候补第2位" in fourth
        assert "候补第1位" in third.say("我的报名")

    def test_cancel_promotes_the_first_waiting_and_notifies_them(self, wechat, db, forklift):
        first = Worker(wechat, "o_a")
        sign_up(first, valid_id(1), employer="甲公司")
        sign_up(Worker(wechat, "o_b"), valid_id(2), employer="乙公司")
        waiting = Worker(wechat, "o_c")
        sign_up(waiting, valid_id(3), employer="丙公司")
        sign_up(Worker(wechat, "o_d"), valid_id(4), employer="丁公司")
        assert "1 冬季岗位练兵·叉车司机技能比武｜已报名" in first.say("我的报名")
        assert "确定要取消" in first.say("取消报名 1")
        assert "名额已按顺序让给候补" in first.say("是")
        assert "已报名" in waiting.say("我的报名")
        assert "候补第1位" in Worker(wechat, "o_d").say("我的报名")
        notice = db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "competition_promoted")
        ).one()
        assert notice.recipient == "o_c" and "由候补转为" in notice.payload["text"]
        assert "您还没有报名竞赛" in first.say("我的报名")
        statuses = sorted(db.scalars(select(CompetitionEntry.status)))
        assert statuses == ["cancelled", "confirmed", "confirmed", "waitlisted"]

    def test_cancel_by_phrase_and_no_keeps_it(self, wechat, db, forklift):
        worker = Worker(wechat)
        sign_up(worker, WANG)
        assert "确定要取消" in worker.say("我报了叉车比赛，想取消")
        assert "报名保留" in worker.say("否")
        assert "您没有报名“电工技能比武”" in worker.say("我报了电工比赛，想取消")

    def test_cancelled_person_may_sign_up_again(self, wechat, forklift):
        worker = Worker(wechat)
        sign_up(worker, WANG)
        worker.say("取消报名 1")
        worker.say("是")
        assert "报名成功" in sign_up(worker, WANG)

    def test_mine_shows_applications_and_sign_ups(self, wechat, forklift):
        worker = Worker(wechat)
        sign_up(worker, WANG)
        mine = worker.say("我的")
        assert "帮扶申请：暂无" in mine and "竞赛报名：\n1 冬季岗位练兵" in mine


class TestConcurrency:
    def test_many_simultaneous_sign_ups_never_oversell(self, app, live_wechat, db):
        open_only(db, "forklift", capacity=3, per_unit=None)
        workers = [Worker(live_wechat, f"o_c{n}") for n in range(8)]
        for n, worker in enumerate(workers):
            worker.say("竞赛")
            worker.say("1")
            worker.say("报名")
            worker.run(["同意", "周平", valid_id(n), "13912345678", f"公司{n}", "叉车", "3", "无"])
            worker.say("跳过")
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda w: w.say("确认"), workers))
        assert sum("报名成功" in r for r in replies) == 3
        positions = sorted(r.split("候补第")[1].split("位")[0] for r in replies if "候补第" in r)
        assert positions == ["1", "2", "3", "4", "5"]
        db.rollback()
        assert (
            sorted(db.scalars(select(CompetitionEntry.status)))
            == ["confirmed"] * 3 + ["waitlisted"] * 5
        )


class TestRemindersAndResults:
    def test_confirmed_entrants_are_reminded_once_before_the_event(self, wechat, db, app):
        tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=30)).astimezone(
            dt.timezone(dt.timedelta(hours=8))
        )
        open_only(
            db,
            "forklift",
            capacity=1,
            per_unit=None,
            event_on=tomorrow.strftime("%m-%d"),
            event_time=tomorrow.strftime("%H:%M"),
        )
        sign_up(Worker(wechat, "o_a"), valid_id(1))
        sign_up(Worker(wechat, "o_b"), valid_id(2))  # waitlisted: no reminder
        runtime = app.extensions["unionbot"]
        assert jobs.remind_entrants(runtime) == 0  # 30 hours ahead: not yet
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(
                event_time=(tomorrow - dt.timedelta(hours=8)).strftime("%H:%M"),
                event_on=(tomorrow - dt.timedelta(hours=8)).strftime("%m-%d"),
            )
        )
        db.commit()
        assert jobs.remind_entrants(runtime) == 1
        assert jobs.remind_entrants(runtime) == 0
        db.rollback()
        reminder = db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "competition_reminder")
        ).one()
        assert reminder.recipient == "o_a" and "比赛提醒" in reminder.payload["text"]
        # Not worth sending once the contest has begun, whatever the kind's default deadline.
        start = (tomorrow - dt.timedelta(hours=8)).replace(second=0, microsecond=0, tzinfo=None)
        assert reminder.expires_at.astimezone(SHANGHAI).replace(tzinfo=None) == start

    def test_results_when_recorded(self, wechat, db):
        worker = Worker(wechat)
        assert "还没有公布" in worker.say("竞赛结果")
        db.execute(
            update(Competition)
            .where(Competition.code == "welder")
            .values(results="一等奖：张伟（射阳港风电）")
        )
        db.commit()
        assert "【焊工职业技能竞赛】\n一等奖：张伟" in worker.say("竞赛结果")


class TestCapacityChanges:
    def test_more_places_promote_the_waiting_in_order(self, wechat, db, forklift, app):
        for n, openid in enumerate(["o_a", "o_b", "o_c", "o_d"]):
            sign_up(Worker(wechat, openid), valid_id(n), employer=f"公司{n}")
        entries = db.scalars(select(CompetitionEntry).order_by(CompetitionEntry.id)).all()
        competition = db.get(Competition, "forklift", with_for_update=True)
        competition.capacity = 3
        promoted = promote_waitlist(db, competition, entries[0].season, dt.datetime.now(dt.UTC))
        db.commit()
        assert [e.id for e in promoted] == [entries[2].id]
        assert "已报名" in Worker(wechat, "o_c").say("我的报名")
        assert "候补第1位" in Worker(wechat, "o_d").say("我的报名")

    def test_cancel_after_capacity_was_cut_promotes_nobody(self, wechat, db, forklift):
        first = Worker(wechat, "o_a")
        sign_up(first, valid_id(1), employer="甲")
        sign_up(Worker(wechat, "o_b"), valid_id(2), employer="乙")
        sign_up(Worker(wechat, "o_c"), valid_id(3), employer="丙")
        db.execute(update(Competition).where(Competition.code == "forklift").values(capacity=1))
        db.commit()
        first.say("取消报名 1")
        assert "让给候补" not in first.say("是")
        assert "候补第1位" in Worker(wechat, "o_c").say("我的报名")


def test_a_proposal_is_submitted_without_an_event_reminder(wechat, db):
    open_only(db, "energy_idea")
    worker = Worker(wechat)
    worker.say("竞赛")
    assert "【节能减排金点子】" in worker.say("1")
    worker.say("报名")
    worker.run(
        [
            "同意",
            "周平",
            valid_id(5),
            "13912345678",
            "物流公司",
            "空压机余热回收",
            "用余热给宿舍供热水",
            "20000",
        ]
    )
    reply = worker.say("确认")
    assert reply.startswith("提交成功！“节能减排金点子”") and "评审有结果时" in reply
    assert "赛前" not in reply
    assert db.scalars(select(CompetitionEntry)).one().answers["yearly_savings"] == 20000
