"""handlers/validators.py: what each kind of field accepts, what it stores, and why it refuses."""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from pathlib import Path

import pytest

import models
from handlers import validators
from handlers.validators import Invalid, validator_for
from handlers.vocabulary import AFFIRM, CONSENT_NO, CONSENT_YES, DENY, SUBMIT
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
        # It used to say "应为18位…您输入的是18位": the length was right, the X was not.
        reason = refused(validators.id_number, "X20924197811050041")
        assert reason == "身份证号只有最后一位可以是X，第1位不能是X，请核对"


class TestPhone:
    @pytest.mark.parametrize(
        "typed", ["13812345678", "+8613812345678", "+86 138 1234 5678", "138-1234-5678"]
    )
    def test_accepted(self, typed):
        assert validators.phone(typed) == "13812345678"

    @pytest.mark.parametrize(
        ("typed", "fact"),
        [
            ("12812345678", "您输入的是11位"),  # the second digit is the fault
            ("1381234567", "您输入的是10位"),
            ("138123456789", "您输入的是12位"),
            ("051288888888", "您输入的是12位"),
            ("电话", "第1位“电”不是数字"),
        ],
    )
    def test_refused_with_what_was_typed(self, typed, fact):
        assert refused(validators.phone, typed) == (
            f"手机号应为1开头的11位数字（第二位是3到9），{fact}"
        )


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

    @pytest.mark.parametrize("typed", ["", "元", "很多", "NaN", "Infinity", "1e5"])
    def test_not_a_number(self, typed):
        assert refused(self.money, typed) == "请只填写数字（例如 3000），单位是元"


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

    @pytest.mark.parametrize("word", sorted(DENY))
    def test_every_denying_word(self, word):
        assert validators.yes_no(word) is False

    @pytest.mark.parametrize("word", sorted(CONSENT_YES))
    def test_every_consenting_word(self, word):
        assert validators.consent(word) is True

    @pytest.mark.parametrize("word", sorted(CONSENT_NO))
    def test_every_refusing_word(self, word):
        assert validators.consent(word) is False

    @pytest.mark.parametrize("word", ["有", "有的", "没有", "没", "无"])
    def test_have_or_have_not_is_no_answer_to_a_consent(self, word):
        # Changed: these used to consent or refuse; "是否同意…？" is not answered by 有/没有.
        assert refused(validators.consent, word) == "请回复“同意”或“不同意”"

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
        assert refused(validators.date, later.isoformat()) == (
            f"日期不能晚于今天（今天是{today.year}年{today.month}月{today.day}日），请核对"
        )

    @pytest.mark.parametrize("typed", ["2023-02-29", "2024-13-01"])
    def test_a_day_the_calendar_lacks(self, typed):
        assert refused(validators.date, typed) == f"没有“{typed}”这一天，请核对日期"

    @pytest.mark.parametrize("typed", ["2024-03", "三月", "很久以前", "12"])
    def test_unreadable(self, typed):
        assert refused(validators.date, typed) == (
            "没看懂这个日期，请按“2026年3月5日”或“3月5日”填写，也可以回复“昨天”“前天”“上周三”"
        )

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
    def test_out_of_range_says_the_range(self, offset):
        reason = refused(self.year, str(self.this_year + offset))
        first, last = self.this_year - 10, self.this_year + 1
        assert reason == f"请填写{first}到{last}之间的年份，例如 {self.this_year}"

    @pytest.mark.parametrize("typed", ["26", "2025-01", "前些年"])
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

    @pytest.mark.parametrize(
        ("typed", "reason"),
        [
            ("62220212345", "银行卡号应为12到19位数字，您输入的是11位"),
            ("62220212345678901234", "银行卡号应为12到19位数字，您输入的是20位"),
            ("6222abcd12345678", "银行卡号第5位“a”不是数字，请核对"),
        ],
    )
    def test_refused_with_what_is_wrong(self, typed, reason):
        assert refused(validators.bank_card, typed) == reason


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

    @pytest.mark.parametrize("typed", ["4", "0", "商业保险", ""])
    def test_unknown_lists_the_choices(self, typed):
        assert refused(self.choice, typed) == "请回复选项前的数字：1 职工医保　2 居民医保　3 新农合"

    def test_two_that_fit_are_asked_about(self):
        # Changed: "医保" fits two options; it used to get the whole list.
        assert refused(self.choice, "医保") == "您是指 1 职工医保 还是 2 居民医保？"

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


# What workers really type and say (voice input writes numbers in words).

TODAY = dt.date(2026, 8, 14)  # a Friday in Beijing
LIBRARY = tomllib.loads((Path(models.__file__).parent / "data" / "fields.toml").read_text())


def library_field(key: str) -> Field:
    """A question as the data files define it (its choices and synonyms)."""
    return Field.from_dict({"key": key, **LIBRARY["fields"][key]})


class TestAmountsAsSaid:
    money = staticmethod(validators.make_money(1_000_000))

    @pytest.mark.parametrize(
        ("typed", "value"),
        [
            ("12万", 120_000),
            ("1.2万", 12_000),
            ("五万多", 50_000),
            ("3000左右", 3000),
            ("一千二", 1200),
            ("两千五百元", 2500),
            ("大概两千", 2000),
            ("2千", 2000),
            ("三千", 3000),
            ("约3000", 3000),
            ("一万五千块钱左右吧", 15_000),
            ("1万2", 12_000),
            ("三点五万", 35_000),
            ("没有", 0),
            ("3 000", 3000),
            ("不对 那是一年的 一个月3000", 3000),  # the one number among words
        ],
    )
    def test_taken_as_the_number(self, typed, value):
        stored = self.money(typed)
        assert stored == value
        assert type(stored) is int

    @pytest.mark.parametrize(
        ("typed", "low", "high"), [("两三千", 2000, 3000), ("2000到3000", 2000, 3000)]
    )
    def test_a_range_asks_for_one_number(self, typed, low, high):
        reason = f"请填一个数：您说的是{low}到{high}之间，大概的数也可以"
        assert refused(self.money, typed) == reason

    def test_two_numbers_are_not_one(self):
        assert refused(self.money, "3000 4000") == "请只填写数字（例如 3000），单位是元"

    @pytest.mark.parametrize("typed", ["几千", "十几"])
    def test_no_number_in_the_words(self, typed):
        assert refused(self.money, typed) == "请说一个具体的数，例如 3000"

    @pytest.mark.parametrize("typed", ["-5", "负五千"])
    def test_still_no_negatives(self, typed):
        assert refused(self.money, typed) == "不能是负数"

    def test_still_a_limit(self):
        assert refused(self.money, "200万") == "金额太大了，请核对（单位是元，不超过1000000）"


class TestCountsAsSaid:
    people = staticmethod(validators.make_count(1, 20, "人"))
    years = staticmethod(validators.make_count(0, 50, "年"))

    @pytest.mark.parametrize(
        ("typed", "value"), [("三口人", 3), ("一家三口", 3), ("两个人", 2), ("4口", 4), ("五", 5)]
    )
    def test_people(self, typed, value):
        assert self.people(typed) == value

    @pytest.mark.parametrize(("typed", "value"), [("五年", 5), ("有五年了", 5), ("十来年", 10)])
    def test_years(self, typed, value):
        assert self.years(typed) == value

    def test_limits_in_words_too(self):
        assert refused(self.people, "二十五口人") == "请填写1到20之间的整数"
        assert refused(self.years, "七八年") == "请填一个数：您说的是7到8之间，大概的数也可以"


class TestNumbersReadAloud:
    @pytest.mark.parametrize(
        "typed",
        [
            "三二零九二四一九八五零三一二零零二二",
            "320924 1985 0312 0022",
            "320924-19850312-0022",
            "320924一九八五0312002二",
            "身份证号320924198503120022",
        ],
    )
    def test_id_number(self, typed):
        assert validators.id_number(typed) == "320924198503120022"

    @pytest.mark.parametrize(
        "typed",
        [
            "幺三八幺二三四五六七八",
            "一三八 一二三四 五六七八",
            "138-1234-5678",
            "13八1234五六78",
            "我的电话是13812345678",
        ],
    )
    def test_phone(self, typed):
        assert validators.phone(typed) == "13812345678"

    def test_dong_is_zero(self):
        assert validators.phone("幺三八洞洞洞洞幺幺幺幺") == "13800001111"

    def test_bank_card(self):
        assert validators.bank_card("六二二二 零二一二 三四五六") == "622202123456"

    def test_a_wrong_character_is_named_by_position(self):
        # 18 characters, so not "您输入的是18位": the 7th is a letter.
        reason = refused(validators.id_number, "320924A98503120022")
        assert reason == "身份证号第7位“A”不是数字，请核对"


class TestDatesAsSaid:
    @pytest.mark.parametrize(
        "typed",
        [
            "8月12号",
            "今年8月12日",
            "2026年8月12号",
            "前天",
            "8.12",
            "0812",
            "2026-08-12",
            "2026年8月12日",
            "二〇二六年八月十二日",
            "八月十二号",
            "12号",
            "2天前",
            "8月12号确诊的",
        ],
    )
    def test_the_same_day(self, typed):
        assert validators.date(typed, today=TODAY) == "2026-08-12"

    @pytest.mark.parametrize(
        ("typed", "day"),
        [
            ("昨天", "2026-08-13"),
            ("今天", "2026-08-14"),
            ("上个月12号", "2026-07-12"),
            ("12月20号", "2025-12-20"),  # said without a year: the latest one, last December
            ("20号", "2026-07-20"),  # the 20th has not come this month
            ("2月29日", "2024-02-29"),
            # Weekdays (14 August 2026 is a Friday; weeks start on Monday).
            ("周三", "2026-08-12"),  # the latest Wednesday
            ("星期五", "2026-08-14"),  # today
            ("礼拜六", "2026-08-08"),
            ("这周一", "2026-08-10"),
            ("本星期三", "2026-08-12"),
            ("上周三", "2026-08-05"),
            ("上个星期五", "2026-08-07"),
            ("上一个星期五", "2026-08-07"),
            ("上一周三", "2026-08-05"),
            ("上礼拜天", "2026-08-09"),
            ("上上周一", "2026-07-27"),
            ("上周三住院的", "2026-08-05"),
            ("两周前", "2026-07-31"),
            ("一个星期以前", "2026-08-07"),
        ],
    )
    def test_relative_to_today(self, typed, day):
        assert validators.date(typed, today=TODAY) == day

    def test_a_day_with_its_year_in_the_future(self):
        reason = refused(functools.partial(validators.date, today=TODAY), "2026年9月1日")
        assert reason == "日期不能晚于今天（今天是2026年8月14日），请核对"

    def test_a_day_later_this_week(self):
        reason = refused(functools.partial(validators.date, today=TODAY), "这周六")
        assert reason == "日期不能晚于今天（今天是2026年8月14日），请核对"

    def test_before_1900(self):
        reason = refused(functools.partial(validators.date, today=TODAY), "1899年5月1日")
        assert reason == "1899年太早了，请核对年份"

    def test_older_than_the_field_allows(self):
        field = library_field("diagnosis_date")
        assert field.max_years_ago == 10
        reason = refused(validator_for(field, today=TODAY), "2010年5月1日")
        assert reason == "2010年5月1日是16年前了，这里只能填2016年8月14日以后的日期，请核对年份"

    def test_validator_for_counts_from_the_day_it_is_given(self):
        field = Field(key="d", label="日期", prompt="？", kind="date")
        assert validator_for(field, today=TODAY)("昨天") == "2026-08-13"
        assert validator_for(field, today=dt.date(2027, 1, 1))("昨天") == "2026-12-31"


class TestYearsAsSaid:
    year = staticmethod(validators.make_year(10, TODAY))

    @pytest.mark.parametrize(
        ("typed", "value"),
        [
            ("今年", 2026),
            ("去年", 2025),
            ("二〇二五年", 2025),
            ("二零二六", 2026),
            ("2026年9月", 2026),
        ],
    )
    def test_accepted(self, typed, value):
        assert self.year(typed) == value


class TestYesNoAsSaid:
    @pytest.mark.parametrize(
        "typed",
        ["对的", "行", "好的", "嗯", "可以", "没问题", "对对对", "好的呀", "嗯，好的", "是滴"],
    )
    def test_yes(self, typed):
        assert validators.yes_no(typed) is True

    @pytest.mark.parametrize("typed", ["不是", "不行", "没有", "不用", "不是的", "不需要"])
    def test_no(self, typed):
        assert validators.yes_no(typed) is False

    def test_yes_and_no_at_once_is_asked_again(self):
        assert refused(validators.yes_no, "嗯，不是") == "请回复“是”或“否”"

    @pytest.mark.parametrize("typed", ["嗯", "好", "我同意", "同意的", "那同意", "那就同意吧"])
    def test_consent_in_plain_words(self, typed):
        assert validators.consent(typed) is True

    @pytest.mark.parametrize("typed", ["不", "我不同意", "那不同意"])
    def test_refusal(self, typed):
        assert validators.consent(typed) is False

    @pytest.mark.parametrize("typed", ["随便", "看情况", "哦"])
    def test_consent_must_be_clear(self, typed):
        assert refused(validators.consent, typed) == "请回复“同意”或“不同意”"


class TestChoicesInWords:
    patient = staticmethod(validator_for(library_field("patient")))
    cause = staticmethod(validator_for(library_field("cause")))

    @pytest.mark.parametrize(
        ("typed", "chosen"),
        [
            ("我老公", "配偶"),
            ("爱人", "配偶"),
            ("丈夫", "配偶"),
            ("老婆", "配偶"),
            ("妻子", "配偶"),
            ("孩子他爸", "配偶"),  # not 子女, though it says 孩子
            ("儿子", "子女"),
            ("女儿", "子女"),
            ("我自己", "本人"),
            ("我", "本人"),
            ("我妈", "父母"),
            ("丈夫患病住院", "配偶"),
            ("第二个", "配偶"),
            ("选3", "子女"),
            ("配偶", "配偶"),
        ],
    )
    def test_patient(self, typed, chosen):
        assert self.patient(typed) == chosen

    @pytest.mark.parametrize(
        ("typed", "chosen"),
        [
            ("丈夫患病住院", "因病"),
            ("厂子倒闭了", "失业"),
            ("出了车祸", "意外事故"),
            ("因灾", "因灾"),
        ],
    )
    def test_a_sentence_that_points_to_one_option(self, typed, chosen):
        assert self.cause(typed) == chosen

    def test_a_sentence_that_points_to_two_asks_with_both(self):
        reason = refused(self.cause, "爱人患病，孩子上学")
        assert reason == "您是指 1 因病 还是 3 因学？"

    def test_synonyms_are_data(self):
        assert "老公" in library_field("patient").synonyms["配偶"]


class TestNamesAsSaid:
    @pytest.mark.parametrize("typed", ["我叫王秀梅", "你好，我是王秀梅", "姓名：王秀梅"])
    def test_the_name_in_a_sentence(self, typed):
        assert validators.name(typed) == "王秀梅"

    @pytest.mark.parametrize(
        ("typed", "reason"),
        [
            ("13812345678", "这是一个手机号，这一步请填写姓名（与身份证一致）"),
            ("幺三八幺二三四五六七八", "这是一个手机号，这一步请填写姓名（与身份证一致）"),
            ("320924198503120022", "这是一个身份证号，这一步请填写姓名（与身份证一致）"),
            ("12345", "姓名不能是数字，请填写真实姓名"),
        ],
    )
    def test_a_number_is_never_a_name(self, typed, reason):
        assert refused(validators.name, typed) == reason
