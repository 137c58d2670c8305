"""A worker's own sign-ups: the list, cancelling, when and where their contest is, results.

Workers seldom type the command with its number ("取消报名 1"). "取消报名",
"不参加了" or "比赛啥时候" mean the one sign-up they have; with several, the
candidates are listed, numbered, and a number picks one.
"""

from __future__ import annotations

import re

from handlers import confirm, picks
from handlers.cues import CANCEL_ENTRY_WORDS
from handlers.homophones import correct
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from handlers.text import fold
from models.competition import (
    CANCELLED,
    ENTRY_LABELS,
    WAITLISTED,
    Competition,
    CompetitionEntry,
    competitions,
    entries_of,
    event_day,
    waitlist,
)
from models.waitlist import cancel_entry

CANCEL = "competition_cancel"  # the yes/no question before cancelling
CANCEL_PICK = "entry_cancel"  # several sign-ups: which one to cancel



def active_entries(state: State) -> list[CompetitionEntry]:
    return [e for e in entries_of(state.session, state.follower.id) if e.status != CANCELLED]


def entry_line(state: State, entry: CompetitionEntry) -> str:
    status = ENTRY_LABELS[entry.status]
    if entry.status == WAITLISTED:
        queue = waitlist(state.session, entry.competition_code, entry.season)
        status = f"候补第{[e.id for e in queue].index(entry.id) + 1}位"
    day = event_day(entry.competition, entry.season)
    when = f"｜{day.month}月{day.day}日" if day else ""
    return f"{entry.competition.title}｜{status}{when}"


def active_entry(state: State, code: str) -> CompetitionEntry | None:
    return next((e for e in active_entries(state) if e.competition_code == code), None)


def my_entries_lines(state: State) -> list[str]:
    entries = active_entries(state)
    return [f"{n} {entry_line(state, e)}" for n, e in enumerate(entries, 1)]


def my_entries(message: Inbound, state: State) -> list[Reply]:
    """``我的报名``: sign-ups and waitlist positions, numbered for ``取消报名 N``."""
    lines = my_entries_lines(state)
    if not lines:
        return [Text("您还没有报名竞赛。回复“竞赛”查看正在报名的竞赛。")]
    return [
        Text("您的报名：\n" + "\n".join(lines) + "\n取消请回复“取消报名 序号”，例如“取消报名 1”。")
    ]


# --- cancelling ------------------------------------------------------------------


def cancel_command(message: Inbound, state: State) -> list[Reply] | None:
    """``取消报名 N``, or "取消报名" / "不参加了" for the only sign-up (a numbered list
    when there are several); None if the text is neither."""
    text = correct(fold(message.text))
    match = re.fullmatch(r"取消报名\s*(\d+)", text)
    if match:
        entries = active_entries(state)
        number = int(match.group(1))
        if not 1 <= number <= len(entries):
            return [Text(f"没有第{number}项报名。回复“我的报名”查看序号。")]
        return ask_cancel(state, entries[number - 1])
    if len(text) > 20 or not CANCEL_ENTRY_WORDS.search(text):
        return None
    entries = active_entries(state)
    if not entries:
        return [Text("您目前没有报名竞赛，不需要取消。回复“竞赛”查看正在报名的竞赛。")]
    if len(entries) == 1:
        return ask_cancel(state, entries[0])
    picks.offer(state, CANCEL_PICK, [str(e.id) for e in entries])
    lines = ["您报名了以下竞赛，要取消哪一项？回复数字：", *my_entries_lines(state)]
    return [Text("\n".join(lines))]


def picked_cancel(state: State, entry_id: str) -> list[Reply]:
    entry = state.session.get(CompetitionEntry, int(entry_id))
    if entry is None or entry.follower_id != state.follower.id or entry.status == CANCELLED:
        return [Text("这项报名已经取消了。")]
    return ask_cancel(state, entry)


def ask_cancel(state: State, entry: CompetitionEntry) -> list[Reply]:
    question = f"确定要取消“{entry.competition.title}”的报名吗？取消后名额会让给候补的人。"
    return confirm.ask(state, CANCEL, str(entry.id), question)


def cancel_confirmed(state: State, entry_id: str) -> list[Reply]:
    entry = state.session.get(CompetitionEntry, int(entry_id))
    promoted = None
    if entry is not None and entry.follower_id == state.follower.id:
        promoted = cancel_entry(state.session, entry, state.now)
    if promoted is None:
        return [Text("这项报名已经取消了。")]
    reply = f"已取消“{entry.competition.title}”的报名。"
    if promoted:
        reply += "名额已按顺序让给候补的职工。"
    return [Text(reply)]


def cancel_declined(state: State, entry_id: str) -> list[Reply]:
    return [Text("好的，报名保留。")]


# --- when and where, results --------------------------------------------------------


def event_line(state: State, entry: CompetitionEntry) -> str:
    competition = entry.competition
    day = event_day(competition, entry.season)
    if day is None:
        return f"“{competition.title}”不设现场比赛，评审有结果时我们会通知您。"
    where = f"，地点：{competition.place}" if competition.place else ""
    waiting = "（您目前是候补，递补后会通知您）" if entry.status == WAITLISTED else ""
    when = f"{day.month}月{day.day}日 {competition.event_time}"
    return f"“{competition.title}”：{when}{where}{waiting}。"


def my_event(state: State, named: Competition | None = None) -> list[Reply] | None:
    """ "比赛啥时候" / "在哪比": the day, time and place of the worker's own contest(s),
    or of the one they name; None when they have no sign-up to answer from."""
    entries = active_entries(state)
    if named is not None:
        entries = [e for e in entries if e.competition_code == named.code]
    if not entries:
        return None
    lines = [event_line(state, entry) for entry in entries[:5]]
    lines.append("赛前一天我们会再提醒您。回复“我的报名”查看报名。")
    return [Text("您报名的" + "\n".join(lines))]


def results(message: Inbound, state: State) -> list[Reply]:
    """``竞赛结果``: results staff have recorded."""
    published = [c for c in competitions(state.session) if c.results]
    if not published:
        return [Text("竞赛结果还没有公布，公布后会在这里查询。")]
    return [Text("\n\n".join(f"【{c.title}】\n{c.results}" for c in published))]
