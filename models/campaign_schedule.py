"""When a campaign sends: send times as staff write them, and the quiet hours.

Each send time is one line, in Beijing time:

* ``cron 0 9 * 1-3 tue``: a crontab line (minute hour day month weekday). Weekdays
  must be names (mon … sun): APScheduler 3 reads a numeric 0 as Monday where crontab
  means Sunday, so a number there is refused rather than guessed.
* ``2027-01-05 09:00``: once, at that date and time.
* ``除夕-3 10:00``, ``春节 09:00``, ``元宵+1 09:30``: a day of the lunar calendar, plus
  or minus days, every year. The dates come from borax (see README, libraries), so
  nobody types next year's Spring Festival by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger
from borax.calendars.lunardate import LunarDate

from models.windows import SHANGHAI

# Lunar anchors: (lunar month, lunar day); 除夕 is the eve of 春节, whether the twelfth
# month has 29 or 30 days that year.
LUNAR_ANCHORS = {
    "春节": (1, 1),
    "元宵": (1, 15),
    "端午": (5, 5),
    "中秋": (8, 15),
    "重阳": (9, 9),
    "小年": (12, 23),
    "除夕": None,
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXPLICIT = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})$")
LUNAR = re.compile(r"^(" + "|".join(LUNAR_ANCHORS) + r")\s*([+-]\s*\d{1,2})?\s+(\d{1,2}):(\d{2})$")


class ScheduleError(ValueError):
    """A send time that cannot be read, worded for staff."""


@dataclass(frozen=True)
class SendTime:
    line: str
    cron: CronTrigger | None = None
    once: dt.datetime | None = None  # UTC
    anchor: str = ""
    offset_days: int = 0
    at: dt.time = dt.time(9)

    def next_after(self, after: dt.datetime) -> dt.datetime | None:
        """The first time strictly after ``after`` (UTC), or None if there is none."""
        if self.once is not None:
            return self.once if self.once > after else None
        if self.cron is not None:
            fire = self.cron.get_next_fire_time(None, after + dt.timedelta(seconds=1))
            return fire.astimezone(dt.UTC) if fire else None
        year = after.astimezone(SHANGHAI).year
        for lunar_year in (year - 1, year, year + 1):
            day = lunar_day(self.anchor, lunar_year) + dt.timedelta(days=self.offset_days)
            when = dt.datetime.combine(day, self.at, SHANGHAI).astimezone(dt.UTC)
            if when > after:
                return when
        return None


def lunar_day(anchor: str, lunar_year: int) -> dt.date:
    """The solar date of ``anchor`` in the lunar year that starts in ``lunar_year``."""
    if anchor == "除夕":
        return LunarDate(lunar_year + 1, 1, 1).to_solar_date() - dt.timedelta(days=1)
    month, day = LUNAR_ANCHORS[anchor]
    return LunarDate(lunar_year, month, day).to_solar_date()


def _clock(hour: str, minute: str, line: str) -> dt.time:
    if int(hour) > 23 or int(minute) > 59:
        raise ScheduleError(f"“{line}”的时间不对：请写 0:00 到 23:59。")
    return dt.time(int(hour), int(minute))


def parse_send_time(line: str) -> SendTime:
    line = " ".join(str(line).split())
    if line.startswith("cron "):
        fields = line[5:].split()
        if len(fields) != 5:
            raise ScheduleError(f"“{line}”：cron 需要5项（分 时 日 月 星期）。")
        if re.search(r"\d", fields[4]):
            raise ScheduleError(
                f"“{line}”：星期请写英文缩写（mon tue wed thu fri sat sun），不要写数字。"
            )
        try:
            trigger = CronTrigger.from_crontab(" ".join(fields), timezone=SHANGHAI)
        except ValueError as exc:
            raise ScheduleError(f"“{line}”不是有效的 cron：{exc}") from None
        return SendTime(line, cron=trigger)
    if match := EXPLICIT.match(line):
        year, month, day, hour, minute = match.groups()
        try:
            local = dt.datetime.combine(
                dt.date(int(year), int(month), int(day)), _clock(hour, minute, line), SHANGHAI
            )
        except ValueError:
            raise ScheduleError(f"“{line}”不是有效的日期。") from None
        return SendTime(line, once=local.astimezone(dt.UTC))
    if match := LUNAR.match(line):
        anchor, offset, hour, minute = match.groups()
        days = int(offset.replace(" ", "")) if offset else 0
        return SendTime(line, anchor=anchor, offset_days=days, at=_clock(hour, minute, line))
    raise ScheduleError(
        f"看不懂发送时间“{line}”。可以写：2027-01-05 09:00；cron 0 9 * 1-3 tue；除夕-3 10:00。"
    )


def parse_send_times(lines: list[str]) -> list[SendTime]:
    if not lines:
        raise ScheduleError("请至少填写一个发送时间。")
    return [parse_send_time(line) for line in lines]


def next_send_time(lines: list[str], after: dt.datetime) -> dt.datetime | None:
    """The earliest send time after ``after`` (UTC) among ``lines``."""
    times = [t for t in (s.next_after(after) for s in parse_send_times(lines)) if t]
    return min(times, default=None)


def after_quiet_hours(when: dt.datetime, start: str, end: str) -> dt.datetime:
    """``when`` (UTC) itself, or the end of the quiet hours it falls in."""
    local = when.astimezone(SHANGHAI)
    begins = dt.time.fromisoformat(start)
    ends = dt.time.fromisoformat(end)
    clock = local.time()
    if begins <= ends:  # quiet hours within one day, e.g. 12:00-14:00
        quiet = begins <= clock < ends
        morning = local.date()
    else:  # across midnight, e.g. 21:00-08:00
        quiet = clock >= begins or clock < ends
        morning = local.date() + dt.timedelta(days=1 if clock >= begins else 0)
    if not quiet:
        return when
    return dt.datetime.combine(morning, ends, SHANGHAI).astimezone(dt.UTC)


def upcoming(lines: list[str], after: dt.datetime, count: int = 3) -> list[dt.datetime]:
    """The next ``count`` send times, for the preview."""
    found: list[dt.datetime] = []
    at = after
    while len(found) < count:
        nxt = next_send_time(lines, at)
        if nxt is None:
            break
        found.append(nxt)
        at = nxt
    return found
