"""Questions, menu words and thanks inside a form are answered, and the form waits
(through the signed webhook, as a worker's phone sends them)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from models import AidApplication, Conversation
from models.aid import AidProgramme
from tests.helpers import SCRIPTS, WANG, Worker, open_all_windows

WAITING = "回复“继续”接着填"


@pytest.fixture
def worker(wechat, db) -> Worker:
    open_all_windows(db)
    return Worker(wechat)


def at(worker: Worker, upto: int, code: str = "hardship", position: str = "1") -> str:
    """Open the programme's form and answer its first ``upto`` questions."""
    worker.say("帮扶")
    worker.say(position)
    return worker.run(SCRIPTS[code][:upto])


def draft(db) -> dict:
    db.rollback()
    row = db.scalars(select(Conversation).where(Conversation.flow == "aid")).one()
    return row.data


class TestAnsweredAndAskedAgain:
    def test_a_benefit_question_at_the_id_number_is_answered_not_refused(self, worker, db):
        """Seen: "两癌筛查什么时候" at the ID question got "身份证号应为18位……"."""
        at(worker, 2)
        reply = worker.say("两癌筛查什么时候报名")
        assert reply.startswith("【女职工两癌筛查】")
        assert "身份证号应为" not in reply and "不是数字" not in reply
        assert f"困难职工帮扶申请还没填完，{WAITING}" in reply
        assert reply.endswith("请输入您的身份证号码（18位）。")
        assert len(reply) <= 300
        assert draft(db)["answers"] == {"privacy_consent": True, "name": "王秀梅"}
        assert "请输入联系手机号" in worker.say(WANG)  # the form goes on where it was

    def test_a_contest_word_at_a_number_question_lists_the_contests(self, worker, db):
        at(worker, 7)  # at the household size
        reply = worker.say("竞赛")
        assert "竞赛" in reply.splitlines()[0] and WAITING in reply
        assert "家庭共同生活的有几口人" in reply
        assert "household_size" not in draft(db)["answers"]

    def test_continue_after_the_answer_shows_the_question(self, worker):
        at(worker, 2)
        worker.say("高温补贴一个月多少钱")
        assert "请输入您的身份证号码" in worker.say("继续")

    @pytest.mark.parametrize("said", ["谢谢", "辛苦了"])
    def test_thanks_in_the_middle_gets_a_warm_word_and_the_question(self, worker, said):
        at(worker, 2)
        reply = worker.say(said)
        assert reply.startswith("不客气") and "没听懂" not in reply
        assert reply.endswith("请输入您的身份证号码（18位）。")

    def test_a_command_where_a_name_is_asked_is_not_taken_as_the_name(self, worker, db):
        at(worker, 1)
        reply = worker.say("我想查一下申请进度")
        assert "您还没有提交过帮扶申请" in reply and WAITING in reply
        assert "name" not in draft(db)["answers"]


class TestQuestionsAboutTheFormItself:
    def test_who_sees_my_data_at_the_consent_is_answered_from_the_notice(self, worker):
        at(worker, 0)
        reply = worker.say("我的信息给谁看？会不会泄露")
        assert "经办人员" in reply and "加密保存" in reply
        assert "请回复“同意”或“不同意”" not in reply.split("【困难职工帮扶申请")[0]
        assert "【困难职工帮扶申请 1/" in reply

    def test_a_question_about_the_income_question_explains_it(self, worker, db):
        at(worker, 8)  # at the monthly income
        reply = worker.say("收入要算我老公的退休金吗")
        assert reply.startswith("这一项这样填：全家每月总收入") and "合计" in reply
        assert "退休职工" not in reply  # not the answer for retired workers
        assert "请只填写数字" not in reply
        assert "monthly_income" not in draft(db)["answers"]

    def test_an_a_not_a_question_at_a_number_is_explained_not_refused(self, worker, db):
        at(worker, 7)  # at the household size
        reply = worker.say("算不算我自己")
        assert reply.startswith("这一项这样填：家庭共同生活的有几口人")
        assert "请只填写数字" not in reply
        assert "household_size" not in draft(db)["answers"]

    def test_a_question_at_the_reason_is_not_stored_as_the_reason(self, worker, db):
        at(worker, 12)  # at the reason, where any text is an answer
        reply = worker.say("这个要写多少字？")
        assert "最多300字" in reply and "银行卡" not in reply
        assert "reason" not in draft(db)["answers"]
        worker.say("家里老人长期卧床，我一个人的工资撑不住。")
        assert draft(db)["answers"]["reason"] == "家里老人长期卧床，我一个人的工资撑不住。"

    def test_a_reason_that_happens_to_ask_is_still_the_reason(self, worker, db):
        at(worker, 12)
        worker.say("孩子上学的钱怎么也凑不齐，只能求助工会")
        assert draft(db)["answers"]["reason"] == "孩子上学的钱怎么也凑不齐，只能求助工会"

    def test_how_long_at_the_summary_is_answered_and_nothing_is_submitted(self, worker, db):
        at(worker, len(SCRIPTS["hardship"]))
        assert worker.say("跳过").startswith("请核对")
        reply = worker.say("要多久能批下来")
        assert "15个工作日" in reply and "请核对您填写的信息" in reply
        db.rollback()
        assert db.scalars(select(AidApplication)).all() == []
        assert "提交成功" in worker.say("确认")

    def test_photos_later_at_the_photo_step_says_the_draft_is_kept(self, worker):
        at(worker, len(SCRIPTS["illness"]), code="illness", position="2")
        assert "请拍照发送" in worker.last
        reply = worker.say("诊断书在医院 明天去拿了再拍")
        assert "保留30天" in reply and "继续" in reply
        assert "这一步请直接发送照片" not in reply
        assert "请拍照发送" in worker.say("继续")
        assert "已收到第1张" in worker.photo("zhenduan_1")


class TestCorrectingByName:
    def test_naming_an_earlier_answer_as_wrong_goes_back_to_it(self, worker, db):
        at(worker, 2)  # at the ID number, the name typed as 王秀梅
        reply = worker.say("名字打错了")
        assert "请输入您的姓名" in reply and "身份证号" not in reply.splitlines()[0]
        assert "请输入您的身份证号码" in worker.say("王秀美")
        assert draft(db)["answers"]["name"] == "王秀美"

    def test_naming_the_line_to_change_at_the_summary_opens_it(self, worker, db):
        at(worker, len(SCRIPTS["hardship"]))
        worker.say("跳过")
        reply = worker.say("手机号写错了 改一下")
        assert "请输入联系手机号" in reply and "回复“确认”提交" not in reply
        summary = worker.say("13912345678")
        assert summary.startswith("请核对") and "139****5678" in summary


class TestSwitchingProgramme:
    def test_another_programme_in_the_middle_asks_before_replacing(self, worker, db):
        at(worker, 3)  # at the phone number
        reply = worker.say("不对 我要申请的是金秋助学")
        assert "您正在填写困难职工帮扶申请，要改为申请金秋助学吗" in reply
        assert "回复“是”" in reply and WAITING not in reply
        assert draft(db)["code"] == "hardship"  # nothing replaced yet
        started = worker.say("是")
        assert "开始填写金秋助学申请" in started and "个人信息保护告知" in started
        assert draft(db)["code"] == "jinqiu" and draft(db)["answers"] == {}

    def test_no_keeps_the_draft(self, worker, db):
        at(worker, 3)
        worker.say("我要申请金秋助学")
        assert "困难职工帮扶申请保留" in worker.say("否")
        assert draft(db)["code"] == "hardship"
        assert "请输入联系手机号" in worker.say("继续")

    def test_the_same_programme_again_keeps_the_answers(self, worker, db):
        at(worker, 3)
        reply = worker.say("我要申请困难职工帮扶")
        assert "已经在填写困难职工帮扶申请" in reply
        assert draft(db)["answers"]["id_number"] == WANG


class TestAfterThePause:
    def idle(self, db) -> None:
        db.execute(
            update(Conversation).values(
                updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=45)
            )
        )
        db.commit()

    def test_the_first_message_is_answered_and_the_form_offered(self, worker, db):
        """Seen: the first message after a pause got only "您有一份未完成的……"."""
        at(worker, 3)
        self.idle(db)
        reply = worker.say("高温补贴一个月多少钱")
        assert "300元" in reply
        notice = "您有一份未完成的困难职工帮扶申请，回复“继续”接着填，回复“取消”放弃。"
        assert reply.endswith(notice)
        assert "请输入联系手机号" in worker.say("继续")

    def test_an_answer_only_the_question_can_take_goes_on(self, worker, db):
        at(worker, 3)
        self.idle(db)
        assert "工作单位" in worker.say("13812345678")
        assert draft(db)["answers"]["phone"] == "13812345678"

    def test_a_closed_programme_asked_mid_form_says_when_and_keeps_the_draft(self, worker, db):
        at(worker, 3)
        db.execute(
            update(AidProgramme).where(AidProgramme.code == "jinqiu").values(**window_ahead())
        )
        db.commit()
        reply = worker.say("我要申请金秋助学")
        assert "金秋助学下次" in reply and "现在不在申报期" in reply
        assert draft(db)["code"] == "hardship"


def window_ahead() -> dict[str, str]:
    """A yearly window that opens two months from today (never open today)."""
    today = dt.date.today()
    opens, closes = today + dt.timedelta(days=60), today + dt.timedelta(days=90)
    return {"opens": opens.strftime("%m-%d"), "closes": closes.strftime("%m-%d")}
