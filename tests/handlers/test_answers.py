"""Answers the way workers type and say them, through the signed webhook.

Dates, amounts, numbers read aloud, options in their own words, yes and no, and the
answers that are asked about before the form goes on. The union's day is pinned to
Friday 14 August 2026 (Beijing), so "前天" is always 12 August.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from models import Competition, Conversation
from tests.helpers import LI, WANG, Worker, common

NOW = dt.datetime(2026, 8, 14, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
CARD = "6222021234567840123"  # passes the Luhn check
ILLNESS = [  # 大病帮扶 after choosing it: up to the diagnosis date, then the rest
    *common(LI, "李梅"),
    "2",
    "张强",
    "肺癌",
    "县人民医院",
]
ILLNESS_REST = ["80000", "30000", "3", "3000", "治疗费用高", CARD, "同意"]
HARDSHIP = common()  # 困难职工帮扶 up to the household size


@pytest.fixture
def worker(wechat, monkeypatch) -> Worker:
    monkeypatch.setattr("bot.intake.utcnow", lambda: NOW)
    return Worker(wechat, "o_answers")


def answers(db, flow: str = "aid") -> dict:
    db.rollback()  # a fresh snapshot
    row = db.scalars(select(Conversation).where(Conversation.flow == flow)).one_or_none()
    return row.data["answers"] if row else {}


def open_form(worker: Worker, programme: str, lines: list[str]) -> str:
    worker.say("帮扶")
    worker.say(programme)
    return worker.run(lines)


def to_date(worker: Worker) -> None:
    open_form(worker, "2", ILLNESS)
    assert "确诊日期" in worker.last, worker.last


def to_income(worker: Worker, people: str = "4") -> None:
    open_form(worker, "1", [*HARDSHIP, people])
    assert "收入" in worker.last, worker.last


class TestDates:
    @pytest.mark.parametrize(
        "said",
        [
            "8月12号",
            "今年8月12日",
            "2026年8月12号",
            "前天",
            "8.12",
            "0812",
            "2026年8月12日。",
            "八月十二号",
        ],
    )
    def test_one_day_many_ways(self, worker, db, said):
        to_date(worker)
        reply = worker.say(said)
        assert reply.startswith("确诊日期记为：2026年8月12日。\n"), reply
        assert "医疗总费用" in reply
        assert answers(db)["diagnosis_date"] == "2026-08-12"

    @pytest.mark.parametrize(
        ("said", "day"), [("昨天", "2026-08-13"), ("上个月12号", "2026-07-12")]
    )
    def test_relative_to_the_union_s_today(self, worker, db, said, day):
        to_date(worker)
        worker.say(said)
        assert answers(db)["diagnosis_date"] == day

    def test_a_typed_date_is_not_read_back(self, worker, db):
        to_date(worker)
        assert worker.say("2026-08-12").startswith("【大病帮扶申请")
        assert answers(db)["diagnosis_date"] == "2026-08-12"

    @pytest.mark.parametrize(
        ("said", "reason"),
        [
            ("2026年9月1日", "日期不能晚于今天（今天是2026年8月14日），请核对。"),
            ("1899年5月1日", "1899年太早了，请核对年份。"),
            ("2010年5月1日", "2010年5月1日是16年前了，这里只能填2016年8月14日以后的日期"),
        ],
    )
    def test_the_future_and_the_implausibly_old_are_refused(self, worker, db, said, reason):
        to_date(worker)
        reply = worker.say(said)
        assert reply.startswith(reason), reply
        assert "确诊日期" in reply
        assert "diagnosis_date" not in answers(db)


class TestAmounts:
    @pytest.mark.parametrize(
        ("said", "value"),
        [
            ("12万", 120_000),
            ("1.2万", 12_000),
            ("五万多", 50_000),
            ("3000左右", 3000),
            ("一千二", 1200),
            ("两千五百元", 2500),
            ("大概两千", 2000),
            ("2千", 2000),
        ],
    )
    def test_stored_as_the_number(self, worker, db, said, value):
        to_date(worker)
        worker.say("2026-08-12")
        reply = worker.say(said)  # 医疗总费用
        assert reply.startswith(f"医疗总费用记为：{value}元。\n"), reply
        assert answers(db)["medical_cost"] == value

    def test_an_approximate_answer_is_shown_as_the_number_at_the_summary(self, worker):
        to_date(worker)
        worker.run(["2026-08-12", "五万多", *ILLNESS_REST[1:]])
        worker.photo("diagnosis")
        summary = worker.say("发好了")
        assert summary.startswith("请核对您填写的信息"), summary
        assert "医疗总费用：50000元" in summary

    def test_counts_in_words(self, worker, db):
        open_form(worker, "1", [*HARDSHIP, "三口人"])
        assert answers(db)["household_size"] == 3

    def test_years_in_words(self, worker, db):
        db.execute(update(Competition).values(opens="01-01", closes="01-02"))
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(opens=None, closes=None)
        )
        db.commit()
        worker.say("竞赛")
        worker.say("1")
        worker.say("报名")
        worker.run(["同意", "王秀梅", WANG, "13812345678", "风电装备公司", "叉车司机", "五年"])
        assert answers(db, "competition")["years_in_trade"] == 5

    def test_negatives_are_still_refused(self, worker, db):
        to_income(worker)
        assert worker.say("-500").startswith("不能是负数。")
        assert "monthly_income" not in answers(db)

    def test_over_the_limit_is_still_refused(self, worker, db):
        open_form(worker, "1", HARDSHIP)
        assert worker.say("二十五口人").startswith("请填写1到20之间的整数。")
        assert "household_size" not in answers(db)

    def test_a_range_asks_for_one_number(self, worker):
        to_income(worker)
        reply = worker.say("两三千")
        assert reply.startswith("请填一个数：您说的是2000到3000之间，大概的数也可以。")


class TestNumbersReadAloud:
    def test_an_id_number_in_chinese_digits(self, worker, db):
        open_form(worker, "1", ["同意", "王秀梅"])
        reply = worker.say("三二零九二四一九八五零三一二零零二二")
        assert "手机" in reply, reply
        assert answers(db)["id_number"] == WANG

    def test_mixed_digits_with_spaces_and_dashes(self, worker, db):
        open_form(worker, "1", ["同意", "王秀梅"])
        worker.say("320924-一九八五 0312-002二")
        assert answers(db)["id_number"] == WANG

    @pytest.mark.parametrize("said", ["幺三八 幺二三四 五六七八", "一三八-一二三四-五六七八"])
    def test_a_phone_number_with_yao(self, worker, db, said):
        open_form(worker, "1", ["同意", "王秀梅", WANG])
        assert "工作单位" in worker.say(said)
        assert answers(db)["phone"] == "13812345678"

    def test_dong_is_zero(self, worker, db):
        open_form(worker, "1", ["同意", "王秀梅", WANG])
        worker.say("幺三八洞洞洞洞幺幺幺幺")
        assert answers(db)["phone"] == "13800001111"

    def test_the_error_says_what_is_actually_wrong(self, worker):
        open_form(worker, "1", ["同意", "王秀梅"])
        reply = worker.say("320924A98503120022")  # 18 characters, one a letter
        assert reply.startswith("身份证号第7位“A”不是数字，请核对。"), reply
        assert "您输入的是18位" not in reply


class TestChoicesInWords:
    @pytest.mark.parametrize(
        ("said", "chosen"),
        [
            ("我老公", "配偶"),
            ("爱人", "配偶"),
            ("丈夫", "配偶"),
            ("老婆", "配偶"),
            ("妻子", "配偶"),
            ("儿子", "子女"),
            ("女儿", "子女"),
        ],
    )
    def test_who_is_ill(self, worker, db, said, chosen):
        open_form(worker, "2", ILLNESS[:7])
        assert "患病的是谁" in worker.last
        reply = worker.say(said)
        assert reply.startswith(f"患者选的是：{chosen}。\n"), reply
        assert answers(db)["patient"] == chosen

    def test_a_sentence_that_points_to_one_option(self, worker, db):
        open_form(worker, "1", [*HARDSHIP, "3", "2000", "300"])
        assert "致困原因" in worker.last
        worker.say("丈夫患病住院")
        assert answers(db)["cause"] == "因病"

    def test_two_that_fit_are_asked_about_with_both(self, worker, db):
        open_form(worker, "1", [*HARDSHIP, "3", "2000", "300"])
        reply = worker.say("爱人患病，孩子上学")
        assert reply.startswith("您是指 1 因病 还是 3 因学？\n"), reply
        assert "cause" not in answers(db)
        worker.say("3")
        assert answers(db)["cause"] == "因学"


class TestYesAndNo:
    @pytest.mark.parametrize("said", ["对的", "行", "好的", "嗯", "可以", "没问题"])
    def test_yes(self, worker, db, said):
        open_form(worker, "1", HARDSHIP[:5])
        assert "工会会员" in worker.last
        assert "基层工会" in worker.say(said)
        assert answers(db)["union_member"] is True

    @pytest.mark.parametrize("said", ["不是", "不行", "没有", "不用"])
    def test_no(self, worker, db, said):
        open_form(worker, "1", HARDSHIP[:5])
        assert "几口人" in worker.say(said)
        assert answers(db)["union_member"] is False

    @pytest.mark.parametrize("said", ["嗯", "好", "嗯。"])
    def test_a_plain_yes_consents_to_the_privacy_notice(self, worker, said):
        worker.say("帮扶")
        worker.say("1")
        assert "请输入您的姓名" in worker.say(said)

    def test_bu_refuses_it(self, worker, db):
        worker.say("帮扶")
        worker.say("1")
        assert "您没有同意" in worker.say("不")
        assert answers(db) == {}

    def test_you_have_is_no_answer_to_the_consent(self, worker):
        worker.say("帮扶")
        worker.say("1")
        assert worker.say("有").startswith("请回复“同意”或“不同意”。")


class TestDoubtfulAnswers:
    def test_a_greeting_for_a_name_is_asked_about_then_replaced(self, worker, db):
        open_form(worker, "1", ["同意"])
        reply = worker.say("您好")
        assert reply == "“您好”像是打招呼，不像姓名。\n没错的话请回复“是”；不对请直接重新输入。"
        assert "name" not in answers(db)
        assert "身份证" in worker.say("王秀梅")
        assert answers(db)["name"] == "王秀梅"

    def test_a_doubted_name_kept_with_shi(self, worker, db):
        open_form(worker, "1", ["同意"])
        worker.say("在吗")
        assert "身份证" in worker.say("是")
        assert answers(db)["name"] == "在吗"

    def test_a_phone_number_for_a_name_is_refused(self, worker, db):
        open_form(worker, "1", ["同意"])
        assert worker.say("13812345678").startswith("这是一个手机号，这一步请填写姓名")
        assert "name" not in answers(db)

    def test_a_phone_number_for_the_work_unit(self, worker, db):
        open_form(worker, "1", ["同意", "王秀梅", WANG, "13812345678"])
        reply = worker.say("13812345678")
        assert reply.startswith("“13812345678”是一个手机号，不像单位名称。"), reply
        assert "工会会员" in worker.say("射阳港风电装备公司")
        assert answers(db)["employer"] == "射阳港风电装备公司"

    def test_the_household_size_typed_again_as_the_income(self, worker, db):
        to_income(worker, "4")
        reply = worker.say("4")
        assert "家庭月收入是4元，和家庭人口数（4人）一样" in reply, reply
        assert "monthly_income" not in answers(db)
        assert "支出" in worker.say("4000")
        assert answers(db)["monthly_income"] == 4000

    def test_a_tiny_income_kept_on_confirmation(self, worker, db):
        to_income(worker, "3")
        assert "只有50元？对3口人的家庭来说太少了" in worker.say("50")
        assert "支出" in worker.say("对")
        assert answers(db)["monthly_income"] == 50

    def test_a_year_s_income_given_for_a_month(self, worker, db):
        to_income(worker, "3")
        reply = worker.say("36000")
        assert "3口人每人每月12000元" in reply and "不是一年的" in reply, reply
        assert "支出" in worker.say("不对 那是一年的 一个月3000")
        assert answers(db)["monthly_income"] == 3000

    def test_no_income_is_not_doubted(self, worker, db):
        to_income(worker, "3")
        assert "支出" in worker.say("0")
        assert answers(db)["monthly_income"] == 0

    def test_a_card_failing_its_check_is_asked_about(self, worker, db):
        to_date(worker)
        worker.run(["2026-08-12", *ILLNESS_REST[:5]])
        reply = worker.say("6222021234567890123")
        assert "校验位对不上" in reply and "回复“是”" in reply, reply
        assert "bank_card" not in answers(db)
        worker.say("是")
        assert answers(db)["bank_card"] == "6222021234567890123"

    def test_a_doubt_is_gone_after_another_answer(self, worker, db):
        """Anything but a yes is a new answer; a yes after that answers the question."""
        to_income(worker, "4")
        worker.say("4")  # doubted
        assert worker.say("很多").startswith("请只填写数字")
        assert worker.say("是").startswith("请只填写数字")  # no longer keeps the 4
        assert "monthly_income" not in answers(db)


class TestChoicesOfAPlace:
    def test_a_pickup_station_by_its_town(self, worker, db):
        open_form(worker, "5", ["同意", "周平", "320924199202260050", "13912345678", "美团"])
        assert "领取" in worker.say("送外卖的")
        worker.say("合德镇那个")
        assert answers(db)["pickup_station"] == "合德镇户外劳动者驿站"


class TestPhotosDone:
    @pytest.mark.parametrize("said", ["发好了", "就这些", "没了", "就这些了。"])
    def test_done_words_end_the_photo_step(self, worker, said):
        to_date(worker)
        worker.run(["2026-08-12", *ILLNESS_REST])
        assert "请拍照发送" in worker.last
        assert "已收到第1张" in worker.photo("proof_1")
        assert worker.say(said).startswith("请核对您填写的信息")
