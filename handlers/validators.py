"""Check and normalise what a worker types into a form field.

Each validator takes the worker's text (trimmed; NFKC-folded too, except free text) and
returns the value to store, or raises :class:`Invalid` with a reason the worker
can act on. Answers come the way people type and speak them: full-width digits,
spaces and dashes inside numbers, 元/人/年 after amounts, numbers in words ("五万多",
"一千二"), ID and phone numbers read aloud ("三二零九…", "幺三八…"), dates such as
"上个月12号" or "前天" (:mod:`handlers.numbers`), and options in the worker's own words
(:mod:`handlers.choices`). A reason states what is actually wrong with the answer.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from handlers.choices import Unclear, pick
from handlers.numbers import (
    Future,
    NoSuchDay,
    Range,
    Unreadable,
    Vague,
    read_date,
    read_digits,
    read_quantity,
    read_year,
)
from handlers.vocabulary import AFFIRM, CONSENT_NO, CONSENT_YES, DENY, NOT_NAMES


class Invalid(ValueError):
    """The answer cannot be used; ``str()`` says why, in Chinese."""

    def sentence(self) -> str:
        """The reason as a line before the question asked again."""
        reason = str(self)
        return reason + ("\n" if reason.endswith(("。", "？", "！")) else "。\n")


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PHONE = re.compile(r"1[3-9]\d{9}")
FREE_TEXT = ("text", "employer", "union")  # kinds whose answers are stored as typed
NAME = re.compile(r"[\u4e00-\u9fff·•A-Za-z ]{2,30}")
# "我叫王秀梅", "你好，我是王秀梅": the name is what follows.
NAME_INTRO = re.compile(
    r"(?:(?:你好|您好)[,，!！]?)?(?:我的名字[是叫]|名字[是叫]|姓名[是:：]?|我叫|我是|本人)?"
)
MONEY_UNITS = ("元钱", "元", "块钱", "块", "圆", "人民币", "钱")
NO_INCOME = frozenset({"没有", "无", "没", "没有收入", "没收入", "无收入"})
COUNT_UNITS = {"人": ("口人", "个人", "口", "人", "位"), "年": ("年", "周年")}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _position_of_wrong(value: str, allowed_last: str = "") -> str | None:
    """What is wrong with a number's characters, by position ("第7位“O”不是数字")."""
    for position, char in enumerate(value, 1):
        if char.isdigit() and char.isascii():
            continue
        if allowed_last and char in allowed_last:
            if position == len(value):
                continue
            return f"只有最后一位可以是{allowed_last[0]}，第{position}位不能是{char}"
        return f"第{position}位“{char}”不是数字"
    return None


def _the_number(value: str, pattern: re.Pattern) -> str:
    """The one number matching ``pattern`` in a short sentence ("电话13812345678"), else
    the value as given."""
    found = re.findall(rf"(?<![\dXx])(?:{pattern.pattern})(?![\dXx])", value)
    rest = re.sub(pattern.pattern, "", value)
    if len(found) == 1 and not re.search(r"\d", rest):
        return found[0]
    return value


def id_number(text: str, today: dt.date | None = None) -> str:
    """GB 11643-1999 citizen ID: 18 characters, a real birth date, the right check digit."""
    value = _the_number(read_digits(_compact(text)).upper(), re.compile(r"\d{17}[\dX]"))
    wrong = _position_of_wrong(value, allowed_last="Xx")
    if wrong:
        raise Invalid(f"身份证号{wrong}，请核对")
    if len(value) != 18:
        raise Invalid(f"身份证号应为18位（最后一位可以是X），您输入的是{len(value)}位")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise Invalid("身份证号中的出生日期不存在，请核对第7到14位") from None
    if not dt.date(1900, 1, 1) <= born <= (today or dt.date.today()):
        raise Invalid("身份证号中的出生日期不对，请核对第7到14位")
    total = sum(int(digit) * weight for digit, weight in zip(value, ID_WEIGHTS, strict=False))
    if ID_CHECK[total % 11] != value[17]:
        raise Invalid("身份证号校验位不对，可能有数字输错了，请逐位核对")
    return value


def phone(text: str) -> str:
    value = read_digits(_compact(text)).removeprefix("+86")
    value = _the_number(value, PHONE)
    if not PHONE.fullmatch(value):
        wrong = _position_of_wrong(value)
        digits = wrong or f"您输入的是{len(value)}位"
        raise Invalid(f"手机号应为1开头的11位数字（第二位是3到9），{digits}")
    return value


def name(text: str) -> str:
    value = text.strip()
    if value.lower() in NOT_NAMES:
        raise Invalid(f"“{value}”不像是姓名，请填写真实姓名")
    digits = read_digits(_compact(value))
    if PHONE.fullmatch(digits.removeprefix("+86")):
        raise Invalid("这是一个手机号，这一步请填写姓名（与身份证一致）")
    if re.fullmatch(r"\d{17}[\dXx]", digits):
        raise Invalid("这是一个身份证号，这一步请填写姓名（与身份证一致）")
    if re.fullmatch(r"[\d.]+", value):
        raise Invalid("姓名不能是数字，请填写真实姓名")
    intro = NAME_INTRO.match(_compact(value))
    rest = _compact(value)[intro.end() :] if intro else ""
    if intro and intro.end() and NAME.fullmatch(rest) and rest.lower() not in NOT_NAMES:
        return rest
    if not NAME.fullmatch(value):
        raise Invalid("请填写真实姓名（2到30个汉字或字母）")
    return value


def make_text(max_length: int) -> Callable[[str], str]:
    def text_value(text: str) -> str:
        if not text:
            raise Invalid("内容不能为空")
        if len(text) > max_length:
            raise Invalid(f"内容太长了（{len(text)}字），请精简到{max_length}字以内")
        return text

    return text_value


def _number(text: str, units: tuple[str, ...], example: str) -> Decimal:
    try:
        number = read_quantity(text, units).value
    except Range as between:
        raise Invalid(
            f"请填一个数：您说的是{between.low:f}到{between.high:f}之间，大概的数也可以"
        ) from None
    except Vague:
        raise Invalid(f"请说一个具体的数，例如 {example}") from None
    except Unreadable:
        raise Invalid(f"请只填写数字（例如 {example}）") from None
    if number < 0:
        raise Invalid("不能是负数")
    return number


def make_money(maximum: int) -> Callable[[str], int | float]:
    def money(text: str) -> int | float:
        if _compact(text) in NO_INCOME:  # the question says "没有收入填 0"
            return 0
        try:
            amount = _number(text, MONEY_UNITS, "3000")
        except Invalid as reason:
            if str(reason).startswith("请只填写数字"):
                raise Invalid("请只填写数字（例如 3000），单位是元") from None
            raise
        if amount > maximum:
            raise Invalid(f"金额太大了，请核对（单位是元，不超过{maximum}）")
        amount = amount.quantize(Decimal("0.01"))
        return int(amount) if amount == amount.to_integral() else float(amount)

    return money


def make_count(minimum: int, maximum: int, unit: str) -> Callable[[str], int]:
    units = (*COUNT_UNITS.get(unit, (unit,)), "个", "岁")

    def count(text: str) -> int:
        number = _number(text, units, f"3{unit}")
        if number != number.to_integral():
            raise Invalid("请填写整数")
        if not minimum <= number <= maximum:
            raise Invalid(f"请填写{minimum}到{maximum}之间的整数")
        return int(number)

    return count


def _bare(word: str) -> str:
    """A reply without what people add to it: "对对对" → "对", "好的呀" → "好的",
    "那同意" → "同意"."""
    if len(word) > 1 and len(set(word)) == 1:
        return word[0]
    word = re.sub(r"^(?:那就|那我就?|那)(?=.)", "", word)
    return re.sub(r"(?<=.)[呀啊哈嘛吧哦呢]+$", "", word)


def _yes_or_no(text: str, yes: frozenset, no: frozenset, reason: str) -> bool:
    parts = [_bare(part) for part in re.split(r"[,，、!！\s]+", text.lower()) if part]
    if parts and all(part in yes for part in parts):
        return True
    if parts and all(part in no for part in parts):
        return False
    raise Invalid(reason)


def yes_no(text: str) -> bool:
    return _yes_or_no(text, AFFIRM, DENY, "请回复“是”或“否”")


def consent(text: str) -> bool:
    # The consent question offers 同意/不同意, so the reason must use the same words; a
    # bare 有/没有 answers no consent question, so it is asked again.
    return _yes_or_no(text, CONSENT_YES, CONSENT_NO, "请回复“同意”或“不同意”")


def _day_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# Days said the way people remember them, offered when a date is asked for or misread.
RELATIVE_DATES = "“昨天”“前天”“上周三”"


def date(text: str, today: dt.date | None = None, max_years_ago: int | None = None) -> str:
    today = today or dt.date.today()
    try:
        day = read_date(_compact(text), today)
    except NoSuchDay as typed:
        raise Invalid(f"没有“{typed}”这一天，请核对日期") from None
    except Future:
        raise Invalid(f"日期不能晚于今天（今天是{_day_text(today)}），请核对") from None
    except Unreadable:
        raise Invalid(
            f"没看懂这个日期，请按“2026年3月5日”或“3月5日”填写，也可以回复{RELATIVE_DATES}"
        ) from None
    if day.year < 1900:
        raise Invalid(f"{day.year}年太早了，请核对年份")
    if max_years_ago is not None:
        try:
            earliest = today.replace(year=today.year - max_years_ago)
        except ValueError:  # 29 February
            earliest = today.replace(year=today.year - max_years_ago, day=28)
        if day < earliest:
            raise Invalid(
                f"{_day_text(day)}是{today.year - day.year}年前了，这里只能填"
                f"{_day_text(earliest)}以后的日期，请核对年份"
            )
    return day.isoformat()


def make_year(earliest_offset: int, today: dt.date | None = None) -> Callable[[str], int]:
    def year(text: str) -> int:
        this_year = (today or dt.date.today()).year
        try:
            value = read_year(_compact(text), today or dt.date.today())
        except Unreadable:
            raise Invalid(f"请填写四位年份，例如 {this_year}") from None
        if not this_year - earliest_offset <= value <= this_year + 1:
            raise Invalid(
                f"请填写{this_year - earliest_offset}到{this_year + 1}之间的年份，例如 {this_year}"
            )
        return value

    return year


def bank_card(text: str) -> str:
    value = read_digits(_compact(text))
    wrong = _position_of_wrong(value)
    if wrong:
        raise Invalid(f"银行卡号{wrong}，请核对")
    if not re.fullmatch(r"\d{12,19}", value):
        raise Invalid(f"银行卡号应为12到19位数字，您输入的是{len(value)}位")
    return value


def make_choice(
    choices: Sequence[str], synonyms: Mapping[str, Sequence[str]] | None = None
) -> Callable[[str], str]:
    """Accept the number shown before a choice, the choice itself, one of its synonyms, or
    words that point to exactly one option; two options that fit are asked about."""

    def choice(text: str) -> str:
        try:
            return pick(text, choices, synonyms or {})
        except Unclear as unclear:
            if len(unclear.options) > 1:
                *first, last = (f"{n} {option}" for n, option in unclear.options)
                raise Invalid(f"您是指 {'、'.join(first)} 还是 {last}？") from None
        listed = "　".join(f"{n} {c}" for n, c in enumerate(choices, 1))
        raise Invalid(f"请回复选项前的数字：{listed}")

    return choice


def validator_for(field: Any, today: dt.date | None = None) -> Callable[[str], Any]:
    """The validator for a form field, by its ``kind``; relative dates ("昨天") and the
    latest plausible birth date or year are counted from ``today`` (the union's day)."""
    kind = field.kind
    if kind == "choice":
        return make_choice(field.choices, getattr(field, "synonyms", None))
    if kind in FREE_TEXT:
        return make_text(field.max_length)
    if kind == "money":
        return make_money(field.maximum or 10_000_000)
    if kind == "count":
        minimum = 1 if field.minimum is None else field.minimum  # 0 years is an answer
        return make_count(minimum, field.maximum or 20, field.unit or "人")
    if kind == "year":
        return make_year(10, today)
    if kind == "date":
        max_years_ago = getattr(field, "max_years_ago", None)
        return functools.partial(date, today=today, max_years_ago=max_years_ago)
    if kind == "id_number":
        return functools.partial(id_number, today=today)
    simple = {
        "name": name,
        "phone": phone,
        "yes_no": yes_no,
        "consent": consent,
        "bank_card": bank_card,
    }
    if kind not in simple:
        raise ValueError(f"unknown field kind {kind!r}")
    return simple[kind]
