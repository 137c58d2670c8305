"""Yearly windows (MM-DD to MM-DD, Beijing time): when a programme or competition takes
applications, and which year an application counts for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    open: bool
    season: int  # the year an application counts for
    next_opening: dt.date | None = None


def on_day(year: int, month_day: str) -> dt.date:
    """``MM-DD`` in ``year`` (29 February falls back to the 28th)."""
    month, day = (int(part) for part in month_day.split("-"))
    return dt.date(year, month, min(day, 28) if month == 2 and day > 28 else day)


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
