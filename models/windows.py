"""Yearly windows (MM-DD to MM-DD, Beijing time): when a programme or competition takes
applications, and which year an application counts for."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# The union works in Beijing time; times are stored in UTC.
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH_DAY = re.compile(r"(\d{1,2})\s*[-/.－／]\s*(\d{1,2})")


def local_today(now: dt.datetime) -> dt.date:
    """The union's calendar day at the UTC instant ``now``."""
    return now.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class Window:
    open: bool
    season: int  # the year an application counts for
    next_opening: dt.date | None = None


def on_day(year: int, month_day: str) -> dt.date:
    """``MM-DD`` in ``year`` (29 February falls back to the 28th outside leap years)."""
    month, day = (int(part) for part in month_day.split("-"))
    if month == 2 and day == 29 and not calendar.isleap(year):
        day = 28
    return dt.date(year, month, day)


def window_on(opens: str | None, closes: str | None, today: dt.date) -> Window:
    """Whether a yearly window ``opens``–``closes`` (MM-DD) is open ``today``.

    A window may wrap the new year (冬送温暖: 12-15 to 02-28); it then counts
    for the year it opened in.
    """
    if not opens or not closes:
        return Window(open=True, season=today.year)
    start, end = on_day(today.year, opens), on_day(today.year, closes)
    if start <= end:
        if start <= today <= end:
            return Window(True, today.year)
        upcoming = start if today < start else on_day(today.year + 1, opens)
        return Window(False, today.year, upcoming)
    if today >= start:
        return Window(True, today.year)
    if today <= end:
        return Window(True, today.year - 1)
    return Window(False, today.year, start)


def parse_month_day(value: str) -> str | None:
    """``11-1`` / ``11/01`` → ``11-01``; None unless it is a real day of some year.

    The one parser for a yearly date, whoever types it (staff in the admin, an operator
    on the command line), so ``04-31`` never reaches :func:`on_day`."""
    match = MONTH_DAY.fullmatch(value.strip())
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    try:
        dt.date(2024, month, day)  # a leap year: 02-29 is a real yearly date
    except ValueError:
        return None
    return f"{month:02d}-{day:02d}"


def month_day_words(value: str) -> str:
    month, day = (int(part) for part in value.split("-"))
    return f"{month}月{day}日"


def window_words(opens: str | None, closes: str | None, all_year: str = "全年") -> str:
    """``每年11月1日至12月10日``, ``每年12月15日至次年2月28日`` or ``all_year``."""
    if not opens or not closes:
        return all_year
    wraps = opens > closes
    return f"每年{month_day_words(opens)}至{'次年' if wraps else ''}{month_day_words(closes)}"


def window_status(opens: str | None, closes: str | None, today: dt.date) -> str:
    """``进行中``, or when the window opens next, as staff read it."""
    window = window_on(opens, closes, today)
    if window.open:
        return "进行中"
    opening = window.next_opening
    if opening is None:
        return "不在期内"
    return f"不在期内，下次 {opening.year}年{opening.month}月{opening.day}日开始"
