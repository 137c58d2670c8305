"""The union office's opening hours, read from the words staff write in the config.

``[union] hours`` is written for workers ("周一至周五 8:30-12:00，14:00-17:30"), and
the same words must answer "周六开门吗" and say when staff will call back, so they
are parsed once here instead of keeping a second, machine-readable copy that could
drift from what workers are told.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEEKDAYS = "一二三四五六日"  # ISO weekday n is WEEKDAYS[n - 1]
_DAY = r"(?:周|星期)([一二三四五六日天])"
DAY_RANGE = re.compile(_DAY + r"\s*(?:至|到|-|—|－|~|～)\s*(?:周|星期)?([一二三四五六日天])")
TIME_RANGE = re.compile(r"(\d{1,2})[:：](\d{2})\s*(?:-|—|－|~|～|至|到)\s*(\d{1,2})[:：](\d{2})")


def weekday_number(char: str) -> int:
    return WEEKDAYS.index("日" if char == "天" else char) + 1


def weekday_name(number: int) -> str:
    return "周" + WEEKDAYS[number - 1]


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int]  # ISO weekdays, Monday = 1
    periods: tuple[tuple[dt.time, dt.time], ...]  # in order, within each open day

    def is_open(self, local: dt.datetime) -> bool:
        if local.isoweekday() not in self.days:
            return False
        return any(start <= local.time() < end for start, end in self.periods)

    def next_opening(self, local: dt.datetime) -> dt.datetime:
        """The next moment the office opens after ``local`` (Beijing time)."""
        for offset in range(8):
            day = local.date() + dt.timedelta(days=offset)
            if day.isoweekday() not in self.days:
                continue
            for start, _ in self.periods:
                opening = dt.datetime.combine(day, start, tzinfo=local.tzinfo)
                if opening > local:
                    return opening
        raise ValueError("the office never opens")  # parse_hours refuses such hours


def parse_hours(text: str) -> OfficeHours:
    """``周一至周五 8:30-17:30`` (also 工作日, 每天, 周六 …); ValueError if the days or
    times cannot be read."""
    days: set[int] = set()
    for first, last in DAY_RANGE.findall(text):
        start, end = weekday_number(first), weekday_number(last)
        days.update(
            range(start, end + 1) if start <= end else [*range(start, 8), *range(1, end + 1)]
        )
    if "工作日" in text:
        days.update(range(1, 6))
    if "每天" in text or "每日" in text:
        days.update(range(1, 8))
    ranged = DAY_RANGE.sub("", text)
    days.update(weekday_number(char) for char in re.findall(_DAY, ranged))
    periods = []
    for h1, m1, h2, m2 in TIME_RANGE.findall(text):
        try:
            start, end = dt.time(int(h1), int(m1)), dt.time(int(h2), int(m2))
        except ValueError:
            raise ValueError(f"{h1}:{m1}-{h2}:{m2} is not a time of day") from None
        if start >= end:
            raise ValueError(f"{h1}:{m1}-{h2}:{m2} ends before it starts")
        periods.append((start, end))
    if not days:
        raise ValueError("must name the days, e.g. 周一至周五")
    if not periods:
        raise ValueError("must give the times, e.g. 8:30-17:30")
    return OfficeHours(frozenset(days), tuple(sorted(periods)))
