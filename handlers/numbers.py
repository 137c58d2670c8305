"""Numbers, amounts and dates the way workers type and say them.

Workers answer "五万多", "3000左右", "一千二", "12万", "三口人", "上个月12号" or "前天",
and WeChat's speech recognition writes an ID or phone number read aloud as
"三二零九二四…" or "幺三八…". This module turns such answers into values; the
validators (:mod:`handlers.validators`) decide what is acceptable and say why not.

Chinese numerals ("一千二", "两千五百", "二〇二六") go through cn2an's ``smart`` mode.
It is not used for everything, because of its traps: it returns a float for Arabic
input ("3000" → 3000.0), drops the leading zeros of digits read one by one
("零一" → 1), does not know 洞 (0 in radio speech), refuses "一点二万", and its
``transform`` leaves "12万" as it is and warns (an error under our tests). So plain
and multiplied Arabic numbers, digit strings, approximations ("多", "左右") and ranges
("两三千", "2000到3000") are handled here, and cn2an only reads numeral words.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import cn2an

from models.office_hours import weekday_number


class Unreadable(ValueError):
    """Not a number (or not a date) we can read."""


class Vague(ValueError):
    """A number word without a value: "几千", "十几"."""


class Range(ValueError):
    """Two numbers where one was asked for: "两三千", "2000到3000"."""

    def __init__(self, low: Decimal, high: Decimal) -> None:
        super().__init__(low, high)
        self.low, self.high = low, high


class NoSuchDay(ValueError):
    """A date the calendar does not have (2月30日); ``str()`` is the day as typed."""


class Future(ValueError):
    """A date after today, said with its year ("今年12月1日" in March)."""


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    approximate: bool  # 多, 左右, 大概 …: stored as the number, but it was not exact


# Digits read one by one (ID, phone and card numbers): 幺 and 洞 are how 1 and 0 are
# read aloud in numbers; 两 slips in for 2.
DIGIT_WORDS = str.maketrans(
    "零〇洞一幺壹二两贰三叁四肆五伍六陆七柒八捌九玖", "00011122233445566778899"
)
# What people put between digit groups: spaces, dashes, dots, commas from voice input.
DIGIT_SEPARATORS = re.compile(r"[\s\-—–_·.,，、]")


def read_digits(text: str) -> str:
    """Digits as typed or spoken, separators dropped; other characters are kept so that
    the caller can say which position is wrong."""
    return DIGIT_SEPARATORS.sub("", text.translate(DIGIT_WORDS))


NUMERAL_WORD = "零〇一二两三四五六七八九十百千万亿"
NUMERAL_RUN = re.compile(f"[{NUMERAL_WORD}]+")
ARABIC = re.compile(r"\d+(?:\.\d+)?")
MULTIPLIED = re.compile(r"(\d+(?:\.\d+)?)(千万|百万|十万|亿|万|千|百|十)")
MULTIPLIERS = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "十万": 10**5, "百万": 10**6}
MULTIPLIERS |= {"千万": 10**7, "亿": 10**8}
# "两三千", "七八年": two neighbouring digits are a range, not the number 23 or 78.
NEIGHBOURS = re.compile(r"([一二两三四五六七八九])([二三四五六七八九])([十百千万]*)")
RANGE_SIGNS = re.compile(r"[-~～到至]|或者|或")

# Words around a number that say it is not exact, before and after it.
APPROX_BEFORE = ("大概是", "大概", "大约是", "大约", "约", "差不多", "将近", "接近", "估计")
APPROX_BEFORE += ("可能", "应该是", "应该", "不到", "最多", "至少")
APPROX_AFTER = ("左右", "上下", "多一点", "多点", "多", "来", "余", "出头", "不到", "以上")
APPROX_AFTER += ("以下", "以内", "的样子")
# Words around a number that change nothing ("一个月三千", "一家三口", "有五年了").
FILLER_BEFORE = ("一个月", "每个月", "每月", "月收入", "收入", "全家", "我们家", "家里", "一家")
FILLER_BEFORE += ("一共", "总共", "合计", "共", "有", "是", "就", "只有", "才", "干了", "做了")
FILLER_AFTER = ("吧", "呢", "啊", "呀", "了", "的", "整")


def _multiplied(core: str) -> Decimal | None:
    if ARABIC.fullmatch(core):
        return Decimal(core)
    match = MULTIPLIED.fullmatch(core)
    if match:
        return Decimal(match.group(1)) * MULTIPLIERS[match.group(2)]
    return None


def _read_core(core: str) -> Decimal:
    """One number: Arabic, Arabic with a multiplier ("12万", "1.2万"), or numeral words."""
    core = core.replace("俩", "两")
    value = _multiplied(core)
    if value is not None:
        return value
    if re.fullmatch(r"[几十百千万]*几[十百千万]*|十几", core):
        raise Vague(core)
    neighbours = NEIGHBOURS.fullmatch(core)
    if neighbours:
        low, high = (int(cn2an.cn2an(neighbours.group(n), "smart")) for n in (1, 2))
        if high == low + 1:
            scale = cn2an.cn2an("一" + neighbours.group(3), "smart") if neighbours.group(3) else 1
            raise Range(Decimal(low * scale), Decimal(high * scale))
    if not re.fullmatch(rf"[\d.点{NUMERAL_WORD}]+", core) or not core.strip("点."):
        raise Unreadable(core)
    # cn2an refuses a decimal before a multiplier ("三点五万"): read the two apart.
    decimal = re.fullmatch(r"(.+点.+?)(千万|百万|十万|亿|万|千|百)", core)
    scale = MULTIPLIERS[decimal.group(2)] if decimal else 1
    try:
        number = cn2an.cn2an(decimal.group(1) if decimal else core, "smart")
    except ValueError:
        raise Unreadable(core) from None
    return Decimal(str(number)) * scale  # through str: cn2an returns floats for decimals


def _strip(text: str, words: tuple[str, ...], *, end: bool) -> tuple[str, bool]:
    for word in sorted(words, key=len, reverse=True):
        if len(text) > len(word) and (text.endswith(word) if end else text.startswith(word)):
            return (text[: -len(word)] if end else text[len(word) :]), True
    return text, False


def read_quantity(text: str, units: tuple[str, ...] = ()) -> Quantity:
    """An amount or a count: "12万", "五万多", "3000左右", "两千五百元", "三口人", "大概两千",
    or the one number among words ("不对 那是一年的 一个月3000").

    Raises :class:`Range` for two numbers, :class:`Vague` for "几千", :class:`Unreadable`
    otherwise. A leading "-" or "负" is kept: the caller refuses negatives with its reason.
    """
    try:
        return _read_quantity(text, units)
    except Unreadable:
        parts = [part for part in re.split(r"[\s,，。；;]+", text) if part]
        if len(parts) < 2:
            raise
    read = []
    for part in parts:
        try:
            read.append(_read_quantity(part, units))
        except (Unreadable, Vague, Range):
            continue
    if len(read) != 1:
        raise Unreadable(text)
    return read[0]


def _read_quantity(text: str, units: tuple[str, ...]) -> Quantity:
    # "3,000" and "3 000" group thousands; "3000 4000" is two numbers, not 30004000.
    value = re.sub(r"(?<=\d)[\s,，](?=\d{3}(?!\d))", "", text)
    if re.search(r"\d\s+\d", value):
        raise Unreadable(text)
    value = re.sub(r"\s+", "", value).replace(",", "").replace("，", "")
    approximate = False
    changed = True
    while changed:  # words come in any order: "大概五万多块钱吧"
        changed = False
        for words, end, approx in (
            (APPROX_AFTER, True, True),
            (units, True, False),
            (FILLER_AFTER, True, False),
            (APPROX_BEFORE, False, True),
            (FILLER_BEFORE, False, False),
        ):
            value, stripped = _strip(value, words, end=end)
            changed |= stripped
            approximate |= stripped and approx
    sign = 1
    if value[:1] in ("-", "负"):
        sign, value = -1, value[1:]
    parts = RANGE_SIGNS.split(value)
    if len(parts) == 2 and all(parts):
        low, high = (_read_quantity(part, units).value for part in parts)
        raise Range(low, high)
    if not value:
        raise Unreadable(text)
    number = _read_core(value)
    if not number.is_finite():
        raise Unreadable(text)
    return Quantity(sign * number, approximate)


def to_arabic(text: str) -> str:
    """Every run of numeral words in ``text`` as Arabic digits: "八月十二号" → "8月12号"."""

    def arabic(match: re.Match) -> str:
        try:
            return str(int(cn2an.cn2an(match.group(0), "smart")))
        except (ValueError, InvalidOperation):
            return match.group(0)

    return NUMERAL_RUN.sub(arabic, text)


RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "前日": 2, "大前天": 3}
DAY = r"(\d{1,2})(?:日|号)?"
FULL_DATES = (  # year, month, day
    re.compile(r"(\d{4})[-./年](\d{1,2})[-./月]" + DAY),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
YEAR_WORDS = {"今年": 0, "去年": 1, "前年": 2}
MONTH_WORDS = {"这个月": 0, "本月": 0, "这月": 0, "上个月": 1, "上月": 1}
WEEK = r"(?:周|星期|礼拜)"
# "周三", "上周三", "上一个星期五", "这礼拜天", "上上周一" (numerals already in digits:
# "上一周三" arrives as "上1周3").
WEEKDAY = re.compile(r"(上上个?|上1?个?|这1?个?|本)?" + WEEK + r"([1-7日天])")
# "3天前", "两周前", "一个星期以前": so many days or weeks back.
AGO = re.compile(r"(\d{1,3})(天|个?" + WEEK + r")(?:以)?前")
# What may follow a date without changing it: "8月12号那天", "12号确诊的".
DATE_TAIL = re.compile(r"(那天|那一天|的时候|左右)?(确诊的?|住院的?|查出来的?|查出的?)?(的|了)?$")


def _day(year: int, month: int, day: int, typed: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise NoSuchDay(typed) from None


def _months_back(today: dt.date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 - months
    return index // 12, index % 12 + 1


def read_date(text: str, today: dt.date) -> dt.date:
    """A calendar day as workers give it, relative words counted from ``today``.

    "2026-08-12", "2026年8月12号", "20260812", "今年8月12日", "8月12号", "8.12", "0812",
    "12号", "上个月12号", "昨天", "前天", "3天前", "两周前", "上周三", "周五", and all of
    these in numeral words. A day given without its year is the latest such day up to
    today ("12月20号" said in January is last December); one given with its year is taken
    as said, and raises :class:`Future` if it has not come yet.
    """
    value = DATE_TAIL.sub("", to_arabic(re.sub(r"\s+", "", text))) or text
    if value in RELATIVE_DAYS:
        return today - dt.timedelta(days=RELATIVE_DAYS[value])
    match = AGO.fullmatch(value)
    if match:
        days = int(match.group(1)) * (1 if match.group(2) == "天" else 7)
        return today - dt.timedelta(days=days)
    for form in FULL_DATES:
        match = form.fullmatch(value)
        if match:
            return _said_with_year(*(int(part) for part in match.groups()), value, today)
    match = re.fullmatch(r"(今年|去年|前年)(\d{1,2})月" + DAY, value)
    if match:
        year = today.year - YEAR_WORDS[match.group(1)]
        return _said_with_year(year, int(match.group(2)), int(match.group(3)), value, today)
    match = re.fullmatch(r"(\d{1,2})月" + DAY, value) or re.fullmatch(
        r"(\d{1,2})[./\-](\d{1,2})|(\d{2})(\d{2})", value
    )
    if match:
        month, day = (int(part) for part in match.groups() if part is not None)
        return _latest(today, month, day, value)
    match = WEEKDAY.fullmatch(value)
    if match:
        day = match.group(2)
        weekday = int(day) if day.isdigit() else weekday_number(day)
        return _weekday(today, match.group(1), weekday, value)
    match = re.fullmatch(r"(这个月|本月|这月|上个月|上月)?" + r"(\d{1,2})(?:日|号)", value)
    if match:
        year, month = _months_back(today, MONTH_WORDS.get(match.group(1) or "这个月", 0))
        day = _day(year, month, int(match.group(2)), value)
        if day > today and not match.group(1):  # "12号" said on the 10th: last month's
            year, month = _months_back(today, 1)
            day = _day(year, month, int(match.group(2)), value)
        if day > today:
            raise Future(value)
        return day
    raise Unreadable(text)


def _weekday(today: dt.date, week: str | None, weekday: int, typed: str) -> dt.date:
    """A weekday (1 Monday … 7 Sunday) of the week named, weeks starting on Monday as
    calendars here do; without a week, the latest such day up to today."""
    if week is None:
        return today - dt.timedelta(days=(today.isoweekday() - weekday) % 7)
    weeks_back = 2 if week.startswith("上上") else 1 if week.startswith("上") else 0
    monday = today - dt.timedelta(days=today.isoweekday() - 1, weeks=weeks_back)
    day = monday + dt.timedelta(days=weekday - 1)
    if day > today:
        raise Future(typed)
    return day


def _said_with_year(year: int, month: int, day: int, typed: str, today: dt.date) -> dt.date:
    date = _day(year, month, day, typed)
    if date > today:
        raise Future(typed)
    return date


def _latest(today: dt.date, month: int, day: int, typed: str) -> dt.date:
    """The latest ``month``/``day`` up to today (29 February: the latest leap year's)."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise NoSuchDay(typed)
    for year in range(today.year, today.year - 8, -1):
        try:
            date = dt.date(year, month, day)
        except ValueError:
            continue
        if date <= today:
            return date
    raise NoSuchDay(typed)


def read_year(text: str, today: dt.date) -> int:
    """A year: "2026", "2026年", "二〇二六年", "今年", "去年", "明年", "2026年9月"."""
    value = re.sub(r"\s+", "", text)
    relative = {"今年": 0, "去年": -1, "前年": -2, "明年": 1}
    if value in relative:
        return today.year + relative[value]
    match = re.fullmatch(r"(\d{4})年?(?:\d{1,2}月份?)?(?:入学|开学)?", to_arabic(value))
    if not match:
        raise Unreadable(text)
    return int(match.group(1))
