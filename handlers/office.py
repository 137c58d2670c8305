"""The union's office as workers need it: where, which phone, when open, when staff call.

Everything comes from ``[union]`` (office, address, phone, hours), so wherever the
bot sends someone to the office the same address and hours appear, and changing
them is a config edit, not a code change.
"""

from __future__ import annotations

import datetime as dt

from handlers.cues import HOURS
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from handlers.text import fold
from models.office_hours import weekday_name, weekday_number
from models.windows import SHANGHAI


def office_line(state: State) -> str:
    """The office with its address, phone and hours, for "到…咨询"."""
    union = state.settings.union
    return f"{union.office}（{union.address}；电话 {union.phone}；{union.hours}）"


def card(state: State) -> str:
    union = state.settings.union
    return (
        f"{union.office}\n地址：{union.address}\n电话：{union.phone}\n办公时间：{union.hours}\n"
        f"职工服务热线 {union.hotline}（江苏省总工会 {union.provincial_hotline}）"
    )


def _asked_days(text: str, now: dt.datetime) -> list[int]:
    """The weekdays a question names: 周六, 星期天, 周末, 今天, 明天."""
    days = []
    if "周末" in text:
        days += [6, 7]
    for prefix in ("周", "星期", "礼拜"):
        at = text.find(prefix)
        while at != -1:
            char = text[at + len(prefix) : at + len(prefix) + 1]
            if char and char in "一二三四五六日天":
                days.append(weekday_number(char))
            at = text.find(prefix, at + 1)
    today = now.astimezone(SHANGHAI).isoweekday()
    if "今天" in text:
        days.append(today)
    if "明天" in text:
        days.append(today % 7 + 1)
    return sorted(set(days))


def opening_answer(state: State, text: str) -> str:
    """The first line for "周六开门吗" / "现在上班吗": yes or no, then when."""
    hours = state.settings.union.office_hours()
    days = _asked_days(text, state.now)
    if days:
        closed = [weekday_name(d) for d in days if d not in hours.days]
        opened = [weekday_name(d) for d in days if d in hours.days]
        if closed and not opened:
            return "、".join(closed) + "不办公。"
        if opened and not closed:
            return "、".join(opened) + "办公。"
        return "、".join(opened) + "办公，" + "、".join(closed) + "不办公。"
    local = state.now.astimezone(SHANGHAI)
    if hours.is_open(local):
        return "现在是办公时间。"
    return f"现在不在办公时间，{when_open(state)}开门。"


def when_open(state: State) -> str:
    """When the office next opens, in words: 今天14:00, 明天8:30, 周一8:30."""
    local = state.now.astimezone(SHANGHAI)
    opening = state.settings.union.office_hours().next_opening(local)
    days = (opening.date() - local.date()).days
    day = {0: "今天", 1: "明天"}.get(days, weekday_name(opening.isoweekday()))
    return f"{day}{opening.hour}:{opening.minute:02d}"


def call_back_time(state: State) -> str:
    """When staff will call: within office hours, or from the next opening."""
    local = state.now.astimezone(SHANGHAI)
    if state.settings.union.office_hours().is_open(local):
        return "今天工作时间内"
    return f"{when_open(state)}以后"


def office_info(message: Inbound, state: State) -> list[Reply]:
    """ "在哪" / "地址" / "电话" / "周六开门吗": the office's card, led by the answer."""
    text = fold(message.text)
    first = opening_answer(state, text) + "\n" if HOURS.search(text) else ""
    return [Text(first + card(state))]
