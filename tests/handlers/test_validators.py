"""handlers/validators.py: what each kind of field accepts, what it stores, and why it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers import validators
from handlers.validators import Invalid, validator_for
from handlers.vocabulary import AFFIRM, DENY, SUBMIT
from models.form_schema import Field

# GB 11643-1999's own example, and a number from the README (born 1978-11-05).
EXAMPLE_ID = "11010519491231002X"
README_ID = "320924197811050041"


def with_check_digit(first17: str) -> str:
    """Complete 17 digits with the GB 11643 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


def refused(validate, text: str) -> str:
    with pytest.raises(Invalid) as caught:
        validate(text)
    return str(caught.value)


class TestIdNumber:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            (EXAMPLE_ID, EXAMPLE_ID),
            ("11010519491231002x", EXAMPLE_ID),
            ("110105 19491231 002X", EXAMPLE_ID),
            (README_ID, README_ID),
            (with_check_digit("32092420000229123"), with_check_digit("32092420000229123")),
        ],
    )
    def test_valid_numbers(self, typed, stored):
        assert validators.id_number(typed) == stored

    def test_a_wrong_check_digit_is_refused(self):
        assert "校验位不对" in refused(validators.id_number, "320924197811050042")
        assert "校验位不对" in refused(validators.id_number, "110105194912310021")

    @pytest.mark.parametrize("first17", ["32092419781305004", "32092419790229004"])
    def test_a_birth_date_that_does_not_exist(self, first17):
        # Month 13; 29 February 1979 (not a leap year). The check digit itself is right.
        assert "出生日期不存在" in refused(validators.id_number, with_check_digit(first17))

    def test_a_birth_date_out_of_range(self):
        born_1880 = with_check_digit("44052418800101001")
        assert "出生日期不对" in refused(validators.id_number, born_1880)
        tomorrow = dt.date.today() + dt.timedelta(days=1)
        unborn = with_check_digit(f"320924{tomorrow:%Y%m%d}123")
        assert "出生日期不对" in refused(validators.id_number, unborn)

    @pytest.mark.parametrize(
        ("typed", "length"), [("32092419781105004", 17), ("3209241978110500411", 19), ("", 0)]
    )
    def test_the_length_is_told(self, typed, length):
        assert refused(validators.id_number, typed) == (
            f"身份证号应为18位（最后一位可以是X），您输入的是{length}位"
        )

    def test_x_only_at_the_end(self):
        assert "应为18位" in refused(validators.id_number, "X20924197811050041")


class TestPhone:
    @pytest.mark.parametrize(
        "typed", ["13812345678", "+8613812345678", "+86 138 1234 5678", "138-1234-5678"]
    )
    def test_accepted(self, typed):
        assert validators.phone(typed) == "13812345678"

    @pytest.mark.parametrize(
        "typed", ["12812345678", "1381234567", "138123456789", "051288888888", "电话"]
    )
    def test_refused(self, typed):
        assert refused(validators.phone, typed) == "手机号应为1开头的11位数字（第二位是3到9）"


class TestName:
    @pytest.mark.parametrize("typed", ["李梅", "欧阳娜娜", "买买提·艾力", "Anna Li"])
    def test_accepted(self, typed):
        assert validators.name(typed) == typed

    @pytest.mark.parametrize("word", ["同意", "确认", "好的", "是", "不同意", "完成", "帮扶", "OK"])
    def test_reply_words_are_not_names(self, word):
        assert refused(validators.name, word) == f"“{word}”不像是姓名，请填写真实姓名"

    def test_every_yes_no_and_submit_word_is_refused(self):
        for word in AFFIRM | DENY | SUBMIT:
            with pytest.raises(Invalid):
                validators.name(word)

    @pytest.mark.parametrize("typed", ["李", "李梅1", "李梅。", "李" * 31])
    def test_not_a_name(self, typed):
        assert refused(validators.name, typed) == "请填写真实姓名（2到30个汉字或字母）"


class TestMoney:
    money = staticmethod(validators.make_money(100_000))

    @pytest.mark.parametrize(
        ("typed", "value"),
        [
            ("3000", 3000),
            ("3000元", 3000),
            ("3000块", 3000),
            ("3,000", 3000),
            ("3，000 元", 3000),
            ("1234.5", 1234.5),
            ("1234.50元", 1234.5),
            ("99.999", 100),
            ("0", 0),
            ("100000", 100_000),
        ],
    )
    def test_accepted(self, typed, value):
        stored = self.money(typed)
        assert stored == value
        assert type(stored) is type(value)

    def test_negative(self):
        assert refused(self.money, "-5") == "不能是负数"

    def test_over_the_limit(self):
        assert refused(self.money, "100000.01") == "金额太大了，请核对（单位是元，不超过100000）"

    @pytest.mark.parametrize("typed", ["三千", "3千", "约3000", "", "元"])
    def test_not_a_number(self, typed):
        assert refused(self.money, typed) == "请只填写数字（例如 3000），单位是元"

    @pytest.mark.parametrize("typed", ["NaN", "Infinity"])
    def test_not_finite(self, typed):
        assert refused(self.money, typed) == "请填写一个数字"


class TestCount:
    count = staticmethod(validators.make_count(1, 10, "人"))

    @pytest.mark.parametrize(("typed", "value"), [("3", 3), ("3人", 3), ("3口人", 3), ("10", 10)])
    def test_accepted(self, typed, value):
        assert self.count(typed) == value

    def test_decimal(self):
        assert refused(self.count, "2.5") == "请填写整数"
        assert self.count("2.0") == 2

    @pytest.mark.parametrize("typed", ["0", "11"])
    def test_limits(self, typed):
        assert refused(self.count, typed) == "请填写1到10之间的整数"

    def test_negative(self):
        assert refused(self.count, "-1") == "不能是负数"

    def test_own_unit(self):
        years = validators.make_count(0, 50, "年")
        assert years("0年") == 0
        assert years("12年") == 12


class TestYesNo:
    @pytest.mark.parametrize("word", sorted(AFFIRM))
    def test_every_affirming_word(self, word):
        assert validators.yes_no(word) is True
        assert validators.consent(word) is True

    @pytest.mark.parametrize("word", sorted(DENY))
    def test_every_denying_word(self, word):
        assert validators.yes_no(word) is False
        assert validators.consent(word) is False

    def test_case_does_not_matter(self):
        assert validators.yes_no("YES") is True
        assert validators.yes_no("No") is False

    @pytest.mark.parametrize("word", ["可能", "不知道", "", "3"])
    def test_anything_else_asks_in_the_question_s_words(self, word):
        assert refused(validators.yes_no, word) == "请回复“是”或“否”"
        assert refused(validators.consent, word) == "请回复“同意”或“不同意”"


class TestDate:
    @pytest.mark.parametrize(
        "typed",
        [
            "2024-03-05",
            "2024-3-5",
            "2024年3月5日",
            "2024年03月05",
            "2024.3.5",
            "2024/03/05",
            "20240305",
        ],
    )
    def test_formats(self, typed):
        assert validators.date(typed) == "2024-03-05"

    def test_spaces(self):
        assert validators.date("2024 年 3 月 5 日") == "2024-03-05"

    def test_today_is_fine_and_the_future_is_not(self):
        today = dt.date.today()
        assert validators.date(today.isoformat()) == today.isoformat()
        later = today + dt.timedelta(days=3)
        assert refused(validators.date, later.isoformat()) == "日期不能晚于今天"

    @pytest.mark.parametrize("typed", ["2023-02-29", "2024-13-01", "3月5日", "昨天", "2024-03"])
    def test_refused(self, typed):
        assert refused(validators.date, typed) == "请按“2026-03-05”或“2026年3月5日”的格式填写日期"

    def test_a_leap_day(self):
        assert validators.date("2024-02-29") == "2024-02-29"


class TestYear:
    year = staticmethod(validators.make_year(10))
    this_year = dt.date.today().year

    def test_accepted(self):
        assert self.year(str(self.this_year)) == self.this_year
        assert self.year(f"{self.this_year - 10}年") == self.this_year - 10
        assert self.year(str(self.this_year + 1)) == self.this_year + 1

    @pytest.mark.parametrize("offset", [-11, 2])
    def test_out_of_range(self, offset):
        reason = refused(self.year, str(self.this_year + offset))
        assert reason == f"请填写四位年份，例如 {self.this_year}"

    @pytest.mark.parametrize("typed", ["26", "二〇二五", "2025-01"])
    def test_not_a_year(self, typed):
        assert "请填写四位年份" in refused(self.year, typed)


class TestBankCard:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("622202123456", "622202123456"),
            ("6222 0212 3456 7890 123", "6222021234567890123"),
        ],
    )
    def test_accepted(self, typed, stored):
        assert validators.bank_card(typed) == stored

    @pytest.mark.parametrize("typed", ["62220212345", "62220212345678901234", "6222abcd12345678"])
    def test_refused(self, typed):
        assert refused(validators.bank_card, typed) == "银行卡号应为12到19位数字"


class TestChoice:
    choice = staticmethod(validators.make_choice(("职工医保", "居民医保", "新农合")))

    @pytest.mark.parametrize(
        ("typed", "chosen"),
        [
            ("1", "职工医保"),
            ("3", "新农合"),
            ("居民医保", "居民医保"),
            ("农合", "新农合"),
            ("职工", "职工医保"),
            ("我参加的是新农合", "新农合"),
        ],
    )
    def test_by_number_text_or_unique_part(self, typed, chosen):
        assert self.choice(typed) == chosen

    @pytest.mark.parametrize("typed", ["医保", "4", "0", "商业保险", ""])
    def test_ambiguous_or_unknown_lists_the_choices(self, typed):
        assert refused(self.choice, typed) == "请回复选项前的数字：1 职工医保　2 居民医保　3 新农合"

    def test_exact_text_wins_over_parts(self):
        choice = validators.make_choice(("小改造", "改造"))
        assert choice("改造") == "改造"


class TestText:
    def test_kept_as_given(self):
        text = validators.make_text(10)
        assert text("孩子上学，老人住院") == "孩子上学，老人住院"

    def test_empty_and_too_long(self):
        text = validators.make_text(5)
        assert refused(text, "") == "内容不能为空"
        assert refused(text, "一二三四五六") == "内容太长了（6字），请精简到5字以内"


class TestValidatorFor:
    @pytest.mark.parametrize(
        ("kind", "typed", "stored"),
        [
            ("name", "李梅", "李梅"),
            ("id_number", "11010519491231002x", EXAMPLE_ID),
            ("phone", "+86 13812345678", "13812345678"),
            ("yes_no", "有", True),
            ("consent", "不同意", False),
            ("date", "2024年3月5日", "2024-03-05"),
            ("bank_card", "6222 0212 3456", "622202123456"),
            ("year", str(dt.date.today().year), dt.date.today().year),
            ("text", "随便说说", "随便说说"),
            ("employer", "射阳港风电装备公司", "射阳港风电装备公司"),
        ],
    )
    def test_simple_kinds(self, kind, typed, stored):
        field = Field(key="k", label="项", prompt="？", kind=kind)
        assert validator_for(field)(typed) == stored

    def test_choice_uses_the_field_s_choices(self):
        field = Field(key="k", label="项", prompt="？", kind="choice", choices=("甲", "乙"))
        assert validator_for(field)("2") == "乙"

    def test_text_uses_the_field_s_length(self):
        field = Field(key="k", label="项", prompt="？", kind="text", max_length=3)
        assert refused(validator_for(field), "一二三四") == "内容太长了（4字），请精简到3字以内"

    def test_money_uses_the_field_s_maximum_or_ten_million(self):
        capped = Field(key="k", label="项", prompt="？", kind="money", maximum=500)
        assert "不超过500" in refused(validator_for(capped), "501")
        uncapped = Field(key="k", label="项", prompt="？", kind="money")
        assert validator_for(uncapped)("10000000") == 10_000_000
        assert "不超过10000000" in refused(validator_for(uncapped), "10000001")

    def test_count_uses_the_field_s_limits_and_unit(self):
        field = Field(key="k", label="项", prompt="？", kind="count", minimum=2, maximum=5)
        assert validator_for(field)("5人") == 5
        assert refused(validator_for(field), "1") == "请填写2到5之间的整数"
        default = Field(key="k", label="项", prompt="？", kind="count")
        assert refused(validator_for(default), "0") == "请填写1到20之间的整数"
        assert validator_for(default)("20") == 20

    def test_count_may_start_at_zero(self):
        # fields.toml: 从业年限 and 在江苏工作年限 have minimum = 0.
        field = Field(
            key="years",
            label="从业年限",
            prompt="？",
            kind="count",
            minimum=0,
            maximum=50,
            unit="年",
        )
        assert validator_for(field)("0") == 0
        assert validator_for(field)("0年") == 0

    def test_an_unknown_kind_is_an_error(self):
        field = Field(key="k", label="项", prompt="？", kind="signature")
        with pytest.raises(ValueError, match="unknown field kind 'signature'"):
            validator_for(field)
