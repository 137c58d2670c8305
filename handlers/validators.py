"""Check and normalise what a worker types into a form field.

Each validator takes the worker's text (trimmed; NFKC-folded too, except free text) and
returns the value to store, or raises :class:`Invalid` with a reason the worker
can act on. Phones with Chinese keyboards send full-width digits, spaces inside
numbers and 元/岁/人 after amounts, so those are accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from handlers.vocabulary import AFFIRM, DENY, NOT_NAMES


class Invalid(ValueError):
    """The answer cannot be used; ``str()`` says why, in Chinese."""


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PHONE = re.compile(r"1[3-9]\d{9}")
FREE_TEXT = ("text", "employer")  # kinds whose answers are stored as typed
NAME = re.compile(r"[\u4e00-\u9fff·•A-Za-z ]{2,30}")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def id_number(text: str) -> str:
    """GB 11643-1999 citizen ID: 18 characters, a real birth date, the right check digit."""
    value = _compact(text).upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise Invalid(f"身份证号应为18位（最后一位可以是X），您输入的是{len(value)}位")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise Invalid("身份证号中的出生日期不存在，请核对第7到14位") from None
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        raise Invalid("身份证号中的出生日期不对，请核对第7到14位")
    total = sum(int(digit) * weight for digit, weight in zip(value, ID_WEIGHTS, strict=False))
    if ID_CHECK[total % 11] != value[17]:
        raise Invalid("身份证号校验位不对，可能有数字输错了，请逐位核对")
    return value


def phone(text: str) -> str:
    value = re.sub(r"[\s-]", "", text)
    value = value.removeprefix("+86")
    if not PHONE.fullmatch(value):
        raise Invalid("手机号应为1开头的11位数字（第二位是3到9）")
    return value


def name(text: str) -> str:
    value = text.strip()
    if value.lower() in NOT_NAMES:
        raise Invalid(f"“{value}”不像是姓名，请填写真实姓名")
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


def _number(text: str, unit: str) -> Decimal:
    value = _compact(text).replace(",", "").replace("，", "")
    for suffix in (unit, "元", "块", "人", "口", "年", "岁", "个"):
        value = value.removesuffix(suffix)
    if value.startswith("-"):
        raise Invalid("不能是负数")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise Invalid(f"请只填写数字（例如 3000），单位是{unit}") from None
    if not number.is_finite():
        raise Invalid("请填写一个数字")
    return number


def make_money(maximum: int) -> Callable[[str], int | float]:
    def money(text: str) -> int | float:
        amount = _number(text, "元")
        if amount > maximum:
            raise Invalid(f"金额太大了，请核对（单位是元，不超过{maximum}）")
        amount = amount.quantize(Decimal("0.01"))
        return int(amount) if amount == amount.to_integral() else float(amount)

    return money


def make_count(minimum: int, maximum: int, unit: str) -> Callable[[str], int]:
    def count(text: str) -> int:
        number = _number(text, unit)
        if number != number.to_integral():
            raise Invalid("请填写整数")
        if not minimum <= number <= maximum:
            raise Invalid(f"请填写{minimum}到{maximum}之间的整数")
        return int(number)

    return count


def _yes_or_no(text: str, reason: str) -> bool:
    value = text.lower()
    if value in AFFIRM:
        return True
    if value in DENY:
        return False
    raise Invalid(reason)


def yes_no(text: str) -> bool:
    return _yes_or_no(text, "请回复“是”或“否”")


def consent(text: str) -> bool:
    # The consent question offers 同意/不同意, so the reason must use the same words.
    return _yes_or_no(text, "请回复“同意”或“不同意”")


DATE_FORMS = (
    re.compile(r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def date(text: str) -> str:
    value = _compact(text)
    for form in DATE_FORMS:
        match = form.fullmatch(value)
        if match:
            try:
                day = dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
            if day > dt.date.today():
                raise Invalid("日期不能晚于今天")
            return day.isoformat()
    raise Invalid("请按“2026-03-05”或“2026年3月5日”的格式填写日期")


def make_year(earliest_offset: int) -> Callable[[str], int]:
    def year(text: str) -> int:
        value = _compact(text).removesuffix("年")
        this_year = dt.date.today().year
        if not re.fullmatch(r"\d{4}", value) or not (
            this_year - earliest_offset <= int(value) <= this_year + 1
        ):
            raise Invalid(f"请填写四位年份，例如 {this_year}")
        return int(value)

    return year


def bank_card(text: str) -> str:
    value = _compact(text)
    if not re.fullmatch(r"\d{12,19}", value):
        raise Invalid("银行卡号应为12到19位数字")
    return value


def make_choice(choices: Sequence[str]) -> Callable[[str], str]:
    """Accept the number shown before a choice, the choice itself, or a unique part of it."""

    def choice(text: str) -> str:
        value = _compact(text)
        if value.isdecimal() and 1 <= int(value) <= len(choices):
            return choices[int(value) - 1]
        exact = [c for c in choices if c == value]
        partial = [c for c in choices if value and (value in c or c in value)]
        if exact or len(partial) == 1:
            return (exact or partial)[0]
        listed = "　".join(f"{n} {c}" for n, c in enumerate(choices, 1))
        raise Invalid(f"请回复选项前的数字：{listed}")

    return choice


def validator_for(field: Any) -> Callable[[str], Any]:
    """The validator for a form field, by its ``kind``."""
    kind = field.kind
    if kind == "choice":
        return make_choice(field.choices)
    if kind in FREE_TEXT:
        return make_text(field.max_length)
    if kind == "money":
        return make_money(field.maximum or 10_000_000)
    if kind == "count":
        minimum = 1 if field.minimum is None else field.minimum  # 0 years is an answer
        return make_count(minimum, field.maximum or 20, field.unit or "人")
    if kind == "year":
        return make_year(10)
    simple = {
        "name": name,
        "id_number": id_number,
        "phone": phone,
        "yes_no": yes_no,
        "consent": consent,
        "date": date,
        "bank_card": bank_card,
    }
    if kind not in simple:
        raise ValueError(f"unknown field kind {kind!r}")
    return simple[kind]
