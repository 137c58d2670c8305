"""Saying what a worker needs: the office (from config), out-of-season dates and 提醒我,
unpaid wages and dismissal, retirement, a kind word, and 人工 with a call-back number
(through the signed webhook)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.config import ConfigError
from models import AidProgramme, Competition, HandoffRequest, ReminderWish
from models.audit import AuditEntry
from models.staff import upsert_staff
from tests.conftest import make_settings, simulator_for
from tests.helpers import PASSWORD, Worker, apply, csrf_token, login, open_all_windows

OFFICE = {
    "office": "县总工会职工服务中心",
    "address": "射阳县合德镇测试路1号",
    "phone": "0515-80000000",
    "hours": "周一至周六 9:00-17:00",
}


@pytest.fixture
def worker(wechat) -> Worker:
    return Worker(wechat)


@pytest.fixture
def staff(app):
    with app.extensions["unionbot"].session_factory.begin() as session:
        upsert_staff(session, "wang", PASSWORD, "王科长", role="reviewer")


def window_ahead() -> dict[str, str]:
    """A yearly window opening two months from today (so never open today)."""
    today = dt.date.today()
    opens, closes = today + dt.timedelta(days=60), today + dt.timedelta(days=90)
    return {"opens": opens.strftime("%m-%d"), "closes": closes.strftime("%m-%d")}


def opening_words() -> str:
    opens = dt.date.today() + dt.timedelta(days=60)
    return f"{opens.year}年{opens.month}月{opens.day}日"


class TestTheOffice:
    @pytest.mark.parametrize(
        "question", ["在哪", "地址", "电话", "你们工会在哪里办公", "工会电话多少"]
    )
    def test_where_and_phone_come_from_config(self, make_app, question):
        worker = Worker(simulator_for(make_app(union=OFFICE)))
        reply = worker.say(question)
        assert "射阳县合德镇测试路1号" in reply and "0515-80000000" in reply
        assert "周一至周六 9:00-17:00" in reply and "没听懂" not in reply

    def test_saturday_by_the_configured_days(self, make_app, worker):
        assert worker.say("周六开门吗").startswith("周六不办公。")
        open_saturdays = Worker(simulator_for(make_app(union=OFFICE)), "o_sat")
        assert open_saturdays.say("星期六上班吗").startswith("周六办公。")

    def test_the_office_appears_where_the_bot_sends_someone_there(self, make_app, db):
        worker = Worker(simulator_for(make_app(union=OFFICE)))
        open_all_windows(db)
        worker.say("帮扶")
        worker.say("1")
        refused = worker.say("不同意")  # the privacy refusal names the office
        assert "射阳县合德镇测试路1号" in refused and "0515-80000000" in refused

    def test_hours_without_days_or_times_are_refused(self, migrated):
        with pytest.raises(ConfigError, match=r"union\.hours"):
            make_settings(migrated, union={"hours": "工作时间"})


class TestOutOfSeason:
    @pytest.fixture
    def closed(self, db):
        db.execute(
            update(AidProgramme).where(AidProgramme.code == "jinqiu").values(**window_ahead())
        )
        db.execute(update(AidProgramme).where(AidProgramme.code != "jinqiu").values(opens=None))
        db.commit()

    def test_leads_with_the_next_opening_then_what_is_open(self, worker, closed):
        reply = worker.say("孩子今年考上大学了 助学金咋申请")
        first = reply.splitlines()[1]  # under the title
        assert first.startswith(f"金秋助学下次{opening_words()}开始申报")
        assert "现在可以申请：困难职工帮扶" in reply and "回复“提醒我”" in reply

    @pytest.mark.parametrize("said", ["提醒我", "那到时候提醒我一下", "开始了通知我一声。", "好的"])
    def test_remind_me_records_the_wish_once(self, worker, db, closed, said):
        worker.say("金秋助学")
        assert "通知您" in worker.say(said)
        worker.say("金秋助学")
        worker.say("提醒我")
        db.rollback()
        [wish] = db.scalars(select(ReminderWish)).all()
        assert (wish.programme_code, wish.competition_code, wish.notified_at) == (
            "jinqiu",
            None,
            None,
        )

    def test_a_closed_competition_can_be_remembered_too(self, worker, db):
        db.execute(
            update(Competition).where(Competition.code == "welder").values(**window_ahead())
        )
        db.commit()
        reply = worker.say("焊工比赛还能报名吗")
        assert f"下次{opening_words()}开始报名" in reply
        worker.say("提醒我")
        db.rollback()
        assert db.scalars(select(ReminderWish.competition_code)).all() == ["welder"]

    def test_apply_after_a_closed_card_opens_no_form(self, worker, db, closed):
        worker.say("金秋助学")
        assert "同意" not in worker.say("申请")


class TestWagesDismissalRetirement:
    @pytest.mark.parametrize(
        "said", ["老板欠了我三个月工资 打哪个电话", "包工头跑了，我们的工钱一直没拿到，怎么办。"]
    )
    def test_unpaid_wages_get_every_door_and_the_evidence(self, worker, said):
        reply = worker.say(said)
        assert "12351" in reply and "12333" in reply and "法律援助" in reply
        assert "劳动合同" in reply and "工资条" in reply and "考勤记录" in reply
        assert "聊天记录" in reply and len(reply) <= 300

    def test_dismissal(self, worker):
        reply = worker.say("厂里突然把我辞退了 一分钱补偿都没有")
        assert "12351" in reply and "12333" in reply and "劳动仲裁" in reply
        assert "辞退通知" in reply

    def test_retired_workers_hear_what_applies_to_them(self, worker):
        reply = worker.say("我退休了还能申请困难职工帮扶吗")
        assert "退休职工不能以在职职工身份申请" in reply
        assert "低保" in reply and "12333" in reply and "劳模" in reply

    def test_a_worker_describing_hardship_gets_a_kind_word_and_the_programmes(self, worker):
        reply = worker.say("家里老人瘫痪在床 我也下岗了 日子真难过")
        assert reply.startswith("听到生病的事") and "困难职工帮扶" in reply
        assert "冬送温暖" in reply and "没听懂" not in reply
        assert worker.say("我下岗了 日子过不下去").startswith("日子难，辛苦您了")

    def test_illness_in_their_own_words_gets_one_line_of_sympathy(self, worker):
        reply = worker.say("我爱人查出肺癌，大病救助要什么材料？")
        assert reply.startswith("听到生病的事") and "诊断证明" in reply
        assert "生病" not in worker.say("大病救助要什么材料？").splitlines()[0]


class TestCallBack:
    def test_asks_what_about_and_a_number_then_records_both(self, worker, db):
        reply = worker.say("人工")
        assert "已记录您的人工服务请求" in reply and "是什么事" in reply
        assert "手机号" in reply and "给您回电（办公时间：周一至周五" in reply
        answer = worker.say("工伤赔偿的事 电话13912345678")
        assert "已记下：工伤赔偿的事" in answer and "139****5678" in answer
        db.rollback()
        request = db.scalars(select(HandoffRequest)).one()
        assert (request.note, request.phone) == ("工伤赔偿的事", "13912345678")

    def test_the_number_on_file_is_confirmed_not_asked(self, worker, db):
        open_all_windows(db)
        apply(worker, "summer")  # phone 13912345678
        reply = worker.say("人工")
        assert "会打您留过的号码 139****5678" in reply and "也请发" not in reply
        worker.say("清凉包领不到")
        db.rollback()
        request = db.scalars(select(HandoffRequest)).one()
        assert (request.note, request.phone) == ("清凉包领不到", "13912345678")

    def test_staff_see_topic_and_masked_number_and_reveal_is_audited(
        self, worker, db, client, staff
    ):
        worker.say("人工")
        worker.say("工资被拖欠 13912345678")
        login(client)
        page = client.get("/admin/handoffs").get_data(as_text=True)
        assert "工资被拖欠" in page and "139****5678" in page and "13912345678" not in page
        request_id = db.scalars(select(HandoffRequest.id)).one()
        token = csrf_token(client, "/admin/handoffs")
        path = f"/admin/handoffs/{request_id}/reveal"
        assert client.post(path, data={"csrf_token": token}).status_code == 303  # no reason
        assert "请选择查看原因" in client.get("/admin/handoffs").get_data(as_text=True)
        data = {"csrf_token": token, "reason": "contact"}
        assert client.post(path, data=data).status_code == 302
        assert "13912345678" in client.get("/admin/handoffs").get_data(as_text=True)
        assert "13912345678" not in client.get("/admin/handoffs").get_data(as_text=True)
        db.rollback()
        assert db.scalars(select(AuditEntry.action)).all() == ["login", "reveal"]
        assert db.scalars(select(AuditEntry.reason)).all() == ["", "电话联系职工"]
