"""models/windows.py: yearly windows in Beijing time."""

from __future__ import annotations

import datetime as dt

import pytest

from models.windows import (
    Window,
    local_today,
    month_day_words,
    on_day,
    parse_month_day,
    window_on,
    window_status,
    window_words,
)

D = dt.date


class TestWindowOn:
    @pytest.mark.parametrize(
        ("today", "window"),
        [
            (D(2026, 10, 31), Window(False, 2026, D(2026, 11, 1))),
            (D(2026, 11, 1), Window(True, 2026)),
            (D(2026, 12, 10), Window(True, 2026)),
            (D(2026, 12, 11), Window(False, 2026, D(2027, 11, 1))),
            (D(2026, 1, 5), Window(False, 2026, D(2026, 11, 1))),
        ],
    )
    def test_a_window_within_the_year(self, today, window):
        assert window_on("11-01", "12-10", today) == window

    @pytest.mark.parametrize(
        ("today", "window"),
        [
            (D(2026, 12, 14), Window(False, 2026, D(2026, 12, 15))),
            (D(2026, 12, 15), Window(True, 2026)),
            (D(2026, 12, 31), Window(True, 2026)),
            # In the new year it still counts for the year it opened in.
            (D(2027, 1, 1), Window(True, 2026)),
            (D(2027, 2, 28), Window(True, 2026)),
            (D(2027, 3, 1), Window(False, 2027, D(2027, 12, 15))),
            (D(2027, 7, 1), Window(False, 2027, D(2027, 12, 15))),
        ],
    )
    def test_a_window_wrapping_the_new_year(self, today, window):
        assert window_on("12-15", "02-28", today) == window

    def test_a_window_closing_on_29_february_closes_on_the_28th_in_other_years(self):
        assert window_on("12-15", "02-29", D(2027, 2, 28)) == Window(True, 2026)
        assert window_on("12-15", "02-29", D(2027, 3, 1)).open is False

    def test_a_window_closing_on_29_february_is_open_that_day_in_a_leap_year(self):
        assert window_on("12-15", "02-29", D(2028, 2, 29)) == Window(True, 2027)

    def test_a_window_opening_on_29_february(self):
        assert window_on("02-29", "03-31", D(2027, 2, 28)) == Window(True, 2027)
        assert window_on("02-29", "03-31", D(2027, 2, 27)) == Window(False, 2027, D(2027, 2, 28))

    @pytest.mark.parametrize(("opens", "closes"), [(None, None), ("", ""), ("11-01", None)])
    def test_no_window_is_all_year(self, opens, closes):
        assert window_on(opens, closes, D(2026, 6, 1)) == Window(True, 2026)

    def test_a_one_day_window(self):
        assert window_on("05-01", "05-01", D(2026, 5, 1)) == Window(True, 2026)
        assert window_on("05-01", "05-01", D(2026, 5, 2)) == Window(False, 2026, D(2027, 5, 1))


class TestOnDay:
    def test_a_day_in_a_year(self):
        assert on_day(2026, "07-01") == D(2026, 7, 1)
        assert on_day(2026, "12-31") == D(2026, 12, 31)

    def test_29_february_falls_back_to_the_28th(self):
        assert on_day(2027, "02-29") == D(2027, 2, 28)


class TestParseMonthDay:
    @pytest.mark.parametrize(
        ("typed", "parsed"),
        [
            ("11-01", "11-01"),
            ("11/1", "11-01"),
            ("11-1", "11-01"),
            ("1.5", "01-05"),
            (" 7 - 1 ", "07-01"),
            ("１１／０１", "11-01"),
            ("02-29", "02-29"),
            ("12-31", "12-31"),
        ],
    )
    def test_accepted(self, typed, parsed):
        assert parse_month_day(typed) == parsed

    @pytest.mark.parametrize(
        "typed",
        ["04-31", "13-01", "00-10", "02-30", "11-00", "", "garbage", "11月1日", "2026-11-01"],
    )
    def test_refused(self, typed):
        assert parse_month_day(typed) is None


class TestWords:
    def test_month_day_words(self):
        assert month_day_words("07-01") == "7月1日"

    def test_window_words(self):
        assert window_words("11-01", "12-10") == "每年11月1日至12月10日"
        assert window_words("12-15", "02-28") == "每年12月15日至次年2月28日"
        assert window_words(None, None) == "全年"
        assert window_words("", "", all_year="全年受理") == "全年受理"

    def test_window_status(self):
        assert window_status("11-01", "12-10", D(2026, 11, 20)) == "进行中"
        assert window_status(None, None, D(2026, 11, 20)) == "进行中"
        assert (
            window_status("11-01", "12-10", D(2026, 12, 11)) == "不在期内，下次 2027年11月1日开始"
        )
        assert window_status("12-15", "02-28", D(2026, 3, 1)) == "不在期内，下次 2026年12月15日开始"


class TestLocalToday:
    def test_late_evening_utc_is_the_next_day_in_beijing(self):
        assert local_today(dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC)) == D(2026, 3, 5)
        assert local_today(dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)) == D(2027, 1, 1)

    def test_before_16_00_utc_it_is_the_same_day(self):
        assert local_today(dt.datetime(2026, 3, 4, 15, 59, tzinfo=dt.UTC)) == D(2026, 3, 4)
