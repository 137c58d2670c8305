"""Answers that deserve a second look before the form goes on.

Some answers pass their validator but are probably slips: a greeting where a name
is asked, a phone number as the work unit, a household living on 4 元 a month (the
household size typed again), a bank card whose Luhn check fails. The form then says
what looks wrong and the value waits in the draft (``Draft.doubt``): "是/对/确认"
keeps it, anything else is taken as a new answer. Such values are possible, so they
are asked about, never refused.

Answers the form had to interpret ("五万多", "丈夫患病住院", "上个月12号") are read back
with the next question, so the worker sees what was recorded while it is easy to fix.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from handlers.messages import Reply, Text
from handlers.text import keyword
from handlers.vocabulary import GREETINGS, KEEP_DOUBTED
from models.form_schema import Field

PHONE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
KEEP_OR_RETYPE = "没错的话请回复“是”；不对请直接重新输入。"


def luhn_ok(digits: str) -> bool:
    """The check digit most bank cards carry (ISO/IEC 7812; UnionPay cards use it)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _not_a_unit(value: str) -> str | None:
    compact = re.sub(r"[\s\-]", "", value)
    if PHONE.fullmatch(compact):
        return f"“{value}”是一个手机号，不像单位名称。请填写工作单位的全称。"
    if re.fullmatch(r"[\d.]+", compact):
        return f"“{value}”是一串数字，不像单位名称。请填写工作单位的全称。"
    return None


def _amount(field: Field, value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    people = answers.get(field.household_field) if field.household_field else None
    low, high = field.plausible_minimum, field.plausible_maximum
    if low is not None and 0 < value < low:
        if people and value == people:
            return (
                f"您填的{field.label}是{field.show(value)}，和家庭人口数（{people}人）一样，"
                "可能是把人数又填了一遍。"
            )
        household = f"{people}口人的家庭" if people else "一个家庭"
        return f"{field.label}只有{field.show(value)}？对{household}来说太少了，请核对一下。"
    if high is not None and value > high * (people or 1):
        each = f"，{people}口人每人每月{value // people}元" if people else ""
        return (
            f"{field.label}是{field.show(value)}{each}？这个数比较大，请核对一下"
            "（这里问的是每月合计，不是一年的）。"
        )
    return None


def reason_to_doubt(field: Field, value: Any, answers: Mapping[str, Any]) -> str | None:
    """What looks wrong with a valid ``value`` for ``field``, or None."""
    if field.kind == "name" and isinstance(value, str) and value.lower() in GREETINGS:
        return f"“{value}”像是打招呼，不像姓名。"
    if field.kind == "employer" and isinstance(value, str):
        return _not_a_unit(value)
    if field.kind == "bank_card" and isinstance(value, str) and not luhn_ok(value):
        return "这个卡号的校验位对不上，可能有数字输错了，请对照卡片再核对一遍。"
    if field.kind == "money":
        return _amount(field, value, answers)
    return None


def question(reason: str) -> str:
    return f"{reason}\n{KEEP_OR_RETYPE}"


def keeps(text: str) -> bool:
    """Whether the reply to a doubt keeps the doubted value."""
    return keyword(text) in KEEP_DOUBTED


PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:元|块|人|口人|年|个|岁)?")


def _plain_number(given: str) -> bool:
    return PLAIN_NUMBER.fullmatch(given.replace(" ", "")) is not None


def with_readback(
    replies: list[Reply], field: Field, given: str, value: Any, answers: Mapping[str, Any]
) -> list[Reply]:
    """``replies`` (the next question) led by what was recorded for ``field``, if the
    answer had to be interpreted and was taken (not refused by the owner's rules)."""
    if value == "" or answers.get(field.key) != value or not replies:
        return replies
    heard = readback(field, given, value)
    if not heard or not isinstance(replies[0], Text):
        return replies
    return [Text(f"{heard}\n{replies[0].content}"), *replies[1:]]


def readback(field: Field, given: str, value: Any) -> str:
    """A line saying what was recorded when the answer had to be interpreted, else ""."""
    given = given.strip()
    if field.kind in ("money", "count", "year") and not _plain_number(given):
        shown = f"{value}年" if field.kind == "year" else field.show(value)
        return f"{field.label}记为：{shown}。"
    if field.kind == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", given):
        day = dt.date.fromisoformat(value)
        return f"{field.label}记为：{day.year}年{day.month}月{day.day}日。"
    if field.kind == "choice" and not given.isdecimal() and given != value:
        return f"{field.label}选的是：{value}。"
    return ""
