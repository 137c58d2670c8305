"""handlers/doubts.py: which valid answers are asked about, and what is read back."""

from __future__ import annotations

import pytest

from handlers import doubts
from models.form_schema import Field

INCOME = Field(
    key="monthly_income",
    label="家庭月收入",
    prompt="？",
    kind="money",
    plausible_minimum=100,
    plausible_maximum=50_000,
    household_field="household_size",
)
NAME = Field(key="name", label="姓名", prompt="？", kind="name")
EMPLOYER = Field(key="employer", label="工作单位", prompt="？", kind="employer")
CARD = Field(key="bank_card", label="收款卡号", prompt="？", kind="bank_card")


class TestLuhn:
    @pytest.mark.parametrize("digits", ["6222021234567840123", "4111111111111111", "79927398713"])
    def test_passes(self, digits):
        assert doubts.luhn_ok(digits)

    @pytest.mark.parametrize("digits", ["6222021234567890123", "4111111111111112", "79927398710"])
    def test_fails(self, digits):
        assert not doubts.luhn_ok(digits)


class TestReasonToDoubt:
    def test_a_household_income_of_four_for_four_people(self):
        reason = doubts.reason_to_doubt(INCOME, 4, {"household_size": 4})
        assert reason == "您填的家庭月收入是4元，和家庭人口数（4人）一样，可能是把人数又填了一遍。"

    def test_an_income_under_the_plausible_minimum(self):
        reason = doubts.reason_to_doubt(INCOME, 50, {"household_size": 3})
        assert reason == "家庭月收入只有50元？对3口人的家庭来说太少了，请核对一下。"

    def test_an_income_over_the_plausible_maximum(self):
        reason = doubts.reason_to_doubt(INCOME, 60_000, {})
        assert reason.startswith("家庭月收入是60000元？这个数比较大")

    def test_a_year_s_income_for_a_month(self):
        per_person = Field(**{**INCOME.__dict__, "plausible_maximum": 10_000})
        reason = doubts.reason_to_doubt(per_person, 36_000, {"household_size": 3})
        assert reason.startswith("家庭月收入是36000元，3口人每人每月12000元？")
        assert doubts.reason_to_doubt(per_person, 36_000, {"household_size": 4}) is None

    @pytest.mark.parametrize("value", [0, 100, 2000, 50_000])
    def test_plausible_incomes(self, value):
        # No income at all is a real answer ("没有收入填 0").
        assert doubts.reason_to_doubt(INCOME, value, {"household_size": 3}) is None

    def test_an_amount_without_bounds_is_never_doubted(self):
        cost = Field(key="cost", label="费用", prompt="？", kind="money")
        assert doubts.reason_to_doubt(cost, 1, {}) is None

    @pytest.mark.parametrize("greeting", ["您好", "在吗", "Hello"])
    def test_a_greeting_for_a_name(self, greeting):
        assert doubts.reason_to_doubt(NAME, greeting, {}) == f"“{greeting}”像是打招呼，不像姓名。"

    def test_a_name(self):
        assert doubts.reason_to_doubt(NAME, "王秀梅", {}) is None

    @pytest.mark.parametrize(
        ("unit", "what"),
        [("13812345678", "一个手机号"), ("138 1234 5678", "一个手机号"), ("3501", "一串数字")],
    )
    def test_a_number_for_a_work_unit(self, unit, what):
        reason = doubts.reason_to_doubt(EMPLOYER, unit, {})
        assert reason == f"“{unit}”是{what}，不像单位名称。请填写工作单位的全称。"

    def test_a_work_unit(self):
        assert doubts.reason_to_doubt(EMPLOYER, "3501厂", {}) is None

    def test_a_card_failing_its_check(self):
        assert "校验位对不上" in doubts.reason_to_doubt(CARD, "6222021234567890123", {})
        assert doubts.reason_to_doubt(CARD, "6222021234567840123", {}) is None


class TestKeeping:
    @pytest.mark.parametrize("word", ["是", "对", "确认", "没错", "是的。", "对的"])
    def test_keeps(self, word):
        assert doubts.keeps(word)

    @pytest.mark.parametrize("word", ["1", "4000", "否", "王秀梅"])
    def test_anything_else_is_a_new_answer(self, word):
        assert not doubts.keeps(word)


class TestReadback:
    def test_an_amount_in_words(self):
        assert doubts.readback(INCOME, "五万多", 50_000) == "家庭月收入记为：50000元。"

    @pytest.mark.parametrize("typed", ["3000", "3000元", "3000.5"])
    def test_a_plain_number_is_not_read_back(self, typed):
        assert doubts.readback(INCOME, typed, 3000) == ""

    def test_a_date_as_said(self):
        day = Field(key="d", label="确诊日期", prompt="？", kind="date")
        assert doubts.readback(day, "前天", "2026-08-12") == "确诊日期记为：2026年8月12日。"
        assert doubts.readback(day, "2026-08-12", "2026-08-12") == ""

    def test_a_choice_in_words(self):
        patient = Field(key="p", label="患者", prompt="？", kind="choice", choices=("本人", "配偶"))
        assert doubts.readback(patient, "我老公", "配偶") == "患者选的是：配偶。"
        assert doubts.readback(patient, "2", "配偶") == ""
        assert doubts.readback(patient, "配偶", "配偶") == ""
