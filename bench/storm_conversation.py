"""What one simulated worker says in the storm, what the bot must answer, and what the
draft must then hold.

Each worker greets, asks a benefits question, opens 帮扶, picks 1 (困难职工帮扶) and
fills in the form: consent, name, a valid ID number, a mobile, employer and so on.
The expected draft is derived from the same lines, so a message handled twice (or
never) shows up as a draft that differs.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

GREETINGS = ["你好", "您好", "在吗"]
# Question → a phrase its answer contains (the benefit matcher's pick).
QUESTIONS = {
    "高温补贴一个月多少钱": "【高温津贴】",
    "怎么加入工会": "【加入工会",
    "会员卡有什么用": "【工会会员服务卡】",
    "职工书屋在哪里": "【职工书屋】",
    "疗休养怎么报名": "【职工疗休养】",
    "老板拖欠三个月工资怎么办": "12351",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀兰霞平刚桂英华"
EMPLOYERS = ["射阳县港城建材有限公司", "江苏海通风电叶片有限公司", "射阳县合德镇环卫所"]
UNIT_UNIONS = ["射阳港经济开发区工会", "合德镇总工会", "县交通运输工会"]

# The 困难职工帮扶 form's steps in order, up to the one after the last answer we give.
FORM_STEPS = (
    "privacy_consent",
    "name",
    "id_number",
    "phone",
    "employer",
    "union_member",
    "unit_union",
    "household_size",
    "monthly_income",
    "rigid_expense",
    "cause",
)
LEAD_IN = 4  # greeting, question, 帮扶, 1: the lines before the first answer
MAX_MESSAGES = LEAD_IN + len(FORM_STEPS) - 1

# GB 11643: weights of the first 17 digits, and the check character by remainder.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
SHEYANG = "320924"


@dataclass(frozen=True)
class Line:
    """One message: its text, a phrase the reply must contain, and the answer it records."""

    text: str
    expect: str
    key: str | None = None
    value: Any = None


def id_number(rng: random.Random) -> str:
    """A valid 射阳 ID number (birth 1966–2000) with the GB 11643 check character."""
    born = dt.date(1966, 1, 1) + dt.timedelta(days=rng.randrange(35 * 365))
    body = f"{SHEYANG}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def chinese_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choices("0123456789", k=9))


def lines(rng: random.Random, count: int) -> list[Line]:
    """The first ``count`` messages of one worker's conversation."""
    name, income = chinese_name(rng), rng.randrange(800, 6000, 50)
    answers = [
        ("同意", True),
        (name, name),
        *((value, value) for value in (id_number(rng), phone(rng), rng.choice(EMPLOYERS))),
        ("是", True),
        (rng.choice(UNIT_UNIONS),) * 2,
        *((str(number), number) for number in (rng.randint(1, 6), income, income // 5)),
    ]
    question = rng.choice(list(QUESTIONS))
    script = [
        Line(rng.choice(GREETINGS), "有什么可以帮您"),
        Line(question, QUESTIONS[question]),
        Line("帮扶", "可以在线申请的帮扶项目"),
        Line("1", "困难职工帮扶申请 1/"),
    ]
    script += [
        Line(text, f"申请 {position}/", key, value)
        for position, (key, (text, value)) in enumerate(zip(FORM_STEPS, answers, strict=False), 2)
    ]
    return script[:count]


def expected_draft(said: list[Line]) -> tuple[str, dict[str, Any]] | None:
    """The aid draft's step and answers once ``said`` is handled; None before the form."""
    if len(said) < LEAD_IN:
        return None
    answered = said[LEAD_IN:]
    return FORM_STEPS[len(answered)], {line.key: line.value for line in answered}
