"""Never submit, cancel or change what the worker did not mean (through the webhook)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from models import Conversation
from models.aid import AidApplication
from models.handoff import HandoffRequest

WANG = "320924198503120022"
HARDSHIP = [  # 困难职工帮扶 after choosing it, up to the summary (it asks no photos first)
    "同意",
    "王秀梅",
    WANG,
    "13812345678",
    "射阳港风电装备公司",
    "是",
    "开发区工会",
    "3",
    "2000",
    "300",
    "1",
    "60000",
    "爱人患病，孩子上学",
    "6222021234567840123",
    "同意",
]


class Phone:
    """One worker typing into WeChat; ``created`` pins CreateTime (seconds) when given."""

    def __init__(self, wechat, openid: str = "o_safe"):
        self.wechat, self.openid, self.last = wechat, openid, ""

    def say(self, line: str, created: int | None = None) -> str:
        body = self.wechat.xml(
            self.openid, "text", created=created, Content=line, MsgId=self.wechat.next_msg_id()
        )
        answer = self.wechat.deliver(body)
        assert answer.status == 200, answer
        self.last = answer.text
        return self.last


def draft_answers(db) -> dict:
    db.rollback()  # a fresh snapshot
    row = db.scalars(select(Conversation).where(Conversation.flow == "aid")).one_or_none()
    return row.data["answers"] if row else {}


def applications(db) -> int:
    db.rollback()
    return len(db.scalars(select(AidApplication)).all())


@pytest.fixture
def phone(wechat) -> Phone:
    phone = Phone(wechat)
    phone.say("帮扶")
    assert "同意" in phone.say("1")  # 困难职工帮扶: the privacy notice first
    return phone


def to_summary(phone: Phone) -> None:
    for line in HARDSHIP:
        phone.say(line)
    if "请拍照发送" in phone.last:
        phone.say("跳过")
    assert phone.last.startswith("请核对您填写的信息"), phone.last


class TestSummaryTakesOnlyASubmitWord:
    @pytest.mark.parametrize("word", ["是", "对", "好", "ok", "好的", "嗯"])
    def test_a_bare_yes_submits_nothing_and_says_the_three_ways_on(self, phone, db, word):
        to_summary(phone)
        reply = phone.say(word)
        assert "回复“确认”提交" in reply and "回复“取消”放弃" in reply and "修改 数字" in reply
        assert applications(db) == 0

    @pytest.mark.parametrize("word", ["确认", "提交", "确认提交", "确认。"])
    def test_an_explicit_submit_word_submits(self, phone, db, word):
        to_summary(phone)
        assert "提交成功" in phone.say(word)
        assert applications(db) == 1

    def test_cancel_in_a_sentence_then_yes_cancels_and_submits_nothing(self, phone, db):
        """Seen: the cancel was missed, and the "是" that followed submitted."""
        to_summary(phone)
        assert "确定要取消吗" in phone.say("太乱了 取消 我重新来")
        assert "已取消" in phone.say("是")
        assert applications(db) == 0
        assert draft_answers(db) == {}


class TestControlWordsInsideAPhrase:
    def test_suanle_quxiao_asks_to_cancel(self, phone):
        phone.say("同意")
        assert "确定要取消吗" in phone.say("算了 取消")

    def test_buyao_le_asks_to_cancel(self, phone):
        phone.say("同意")
        assert "确定要取消吗" in phone.say("不要了")

    def test_wo_yao_chongxin_tian_asks_to_restart(self, phone):
        phone.say("同意")
        assert "确定要清空重填吗" in phone.say("我要重新填")

    def test_fanhui_shangyibu_goes_back(self, phone):
        phone.say("同意")
        phone.say("王秀梅")
        assert "姓名" in phone.say("返回上一步")

    def test_zhao_rengong_records_a_call_back(self, phone, db):
        phone.say("同意")
        assert "12351" in phone.say("找人工")
        db.rollback()
        assert db.scalars(select(HandoffRequest)).one()

    def test_a_reason_that_mentions_cancelling_is_an_answer(self, phone, db):
        """Free text keeps its words: only a plain control word leaves the form there."""
        for line in HARDSHIP[:12]:
            phone.say(line)
        assert "原因" in phone.last or "情况" in phone.last, phone.last
        phone.say("厂里取消了我的岗位")
        assert draft_answers(db)["reason"] == "厂里取消了我的岗位"


class TestDoubleTap:
    def test_the_same_answer_sent_twice_at_once_is_taken_once(self, phone, db):
        """Seen: "4" for the household size, sent twice, became a monthly income of 4 元."""
        for line in HARDSHIP[:7]:
            phone.say(line)
        assert "家庭" in phone.last and "人" in phone.last  # how many in the household?
        created = int(time.time()) + 1000  # past the paced CreateTimes
        income_question = phone.say("4", created=created)
        assert "收入" in income_question
        assert phone.say("4", created=created + 1) == ""  # WeChat shows nothing more
        assert draft_answers(db)["household_size"] == 4
        assert "monthly_income" not in draft_answers(db)

    def test_the_same_answer_sent_after_reading_the_next_question_is_taken(self, phone, db):
        for line in HARDSHIP[:8]:  # up to the monthly income
            phone.say(line)
        created = int(time.time()) + 2000
        assert "支出" in phone.say("2000", created=created)  # income; next: rigid expenses
        # A deliberate identical answer to the next question, after reading it.
        phone.say("2000", created=created + 8)
        answers = draft_answers(db)
        assert (answers["monthly_income"], answers["rigid_expense"]) == (2000, 2000)

    def test_the_window_is_configurable(self, make_app, db):
        from tests.conftest import simulator_for

        app = make_app(forms={"double_tap_seconds": 0})
        phone = Phone(simulator_for(app), "o_nowindow")
        phone.say("帮扶")
        phone.say("1")
        for line in HARDSHIP[:7]:
            phone.say(line)
        created = int(time.time()) + 3000
        phone.say("4", created=created)
        assert phone.say("4", created=created) != ""  # taken as the income, as configured


class TestWalkingBack:
    def test_back_twice_then_a_corrected_id_goes_on_to_the_phone_question(self, phone, db):
        """Seen: after going back twice and retyping the ID number, the form skipped the
        phone question and stored the phone number as the work unit."""
        for line in HARDSHIP[:5]:  # up to the work unit
            phone.say(line)
        assert "工会会员" in phone.last
        assert "工作单位" in phone.say("上一步")
        assert "手机" in phone.say("上一步")
        assert "身份证" in phone.say("上一步")
        reply = phone.say("320924197811050041")
        assert "手机" in reply and "原来填的是" in reply and "不变" in reply
        reply = phone.say("13900001111")
        assert "工作单位" in reply
        assert "工会会员" in phone.say("不变")
        answers = draft_answers(db)
        assert answers["id_number"] == "320924197811050041"
        assert answers["phone"] == "13900001111"
        assert answers["employer"] == "射阳港风电装备公司"

    def test_an_edit_from_the_summary_returns_to_the_summary(self, phone):
        to_summary(phone)
        phone.say("修改 1")
        assert phone.say("王梅").startswith("请核对您填写的信息")
