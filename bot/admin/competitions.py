"""Competitions as staff keep them: the list, one competition with its entrants, edits and
cancellations.

Staff change a competition's window, event, places and results, and cancel an
entry for a worker who phones in. Each change is written to the audit log
with the names of the fields changed (never their values).

A staff cancellation goes through :func:`models.waitlist.cancel_entry`,
the same code as a worker's own cancellation in the chat: the first on the
waitlist is promoted and told in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from bot.admin.common import (
    MAX_PLACES,
    WindowForm,
    bp,
    changed_words,
    in_scope_or_404,
    runtime,
    save_changes,
    staff_actor,
    staff_scope,
    window_data,
)
from models.audit import audit, audit_trail
from models.base import utcnow
from models.competition import (
    CANCELLED,
    CONFIRMED,
    WAITLISTED,
    Competition,
    CompetitionEntry,
    competitions,
    count_entries,
    entrants,
    event_day,
    lock_competition,
    standing_counts,
)
from models.database import serialised
from models.follower import Follower
from models.masking import mask_name, mask_phone, mask_text
from models.waitlist import cancel_entry, promote_waitlist
from models.windows import local_today, parse_month_day, window_on, window_status, window_words

KIND_LABELS = {
    "trade": "技能竞赛",
    "innovation": "“五小”创新",
    "proposal": "合理化建议",
    "online": "网上练兵",
    "nomination": "工匠推选",
}

CLOCK = re.compile(r"(\d{1,2})\s*[:：]\s*(\d{2})")


# --- parsing what staff type ---------------------------------------------------


def parse_clock(value: str) -> str | None:
    """``8:30`` → ``08:30``; None unless a time on a 24-hour clock."""
    match = CLOCK.fullmatch(value.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_places(value: str) -> int | None:
    """A positive whole number of places; raises ValueError for anything else."""
    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(text)
    return int(text)


# --- forms ---------------------------------------------------------------------


class CompetitionForm(WindowForm):
    event_on = StringField("比赛日期")
    event_time = StringField("比赛时间")
    place = StringField("地点", validators=[Length(max=100, message="地点不能超过100字")])
    capacity = StringField("名额")
    per_unit = StringField("每单位限报")
    results = TextAreaField(
        "比赛结果（填写后职工回复“竞赛结果”可查看）",
        validators=[Length(max=5000, message="比赛结果不能超过5000字")],
    )

    def validate_event_on(self, field) -> None:
        if not (field.data or "").strip():
            field.data = None
            return
        parsed = parse_month_day(field.data)
        if parsed is None:
            raise ValidationError(
                f"比赛日期“{field.data.strip()}”不是有效的日期，请按 月-日 填写，例如 12-18；"
                "不定日期请留空。"
            )
        field.data = parsed

    def validate_event_time(self, field) -> None:
        parsed = parse_clock(field.data or "")
        if parsed is None:
            raise ValidationError(
                f"比赛时间“{(field.data or '').strip()}”不是有效的时间，"
                "请按24小时制 时:分 填写，例如 08:30。"
            )
        field.data = parsed

    def _places(self, field, label: str) -> None:
        if not (field.data or "").strip():
            field.data = None
            return
        try:
            places = parse_places(field.data)
        except ValueError:
            raise ValidationError(
                f"{label}“{field.data.strip()}”无效：请填写正整数，留空表示不限。"
            ) from None
        if places > MAX_PLACES:
            raise ValidationError(f"{label}不能超过{MAX_PLACES}，留空表示不限。")
        field.data = places

    def validate_capacity(self, field) -> None:
        self._places(field, "名额")

    def validate_per_unit(self, field) -> None:
        self._places(field, "每单位限报人数")

    def values(self) -> dict[str, Any]:
        return {
            **self.window_values(),
            "event_on": self.event_on.data,
            "event_time": self.event_time.data,
            "place": (self.place.data or "").strip(),
            "capacity": self.capacity.data,
            "per_unit": self.per_unit.data,
            "results": (self.results.data or "").strip() or None,
        }


class CancelForm(FlaskForm):
    """Nothing but the CSRF token: the entry is in the URL."""


def competition_form_data(competition: Competition) -> dict[str, Any]:
    return {
        **window_data(competition),
        "event_on": competition.event_on or "",
        "event_time": competition.event_time,
        "place": competition.place,
        "capacity": "" if competition.capacity is None else str(competition.capacity),
        "per_unit": "" if competition.per_unit is None else str(competition.per_unit),
        "results": competition.results or "",
    }


# --- rows as the pages show them -----------------------------------------------


@dataclass(frozen=True)
class CompetitionRow:
    competition: Competition
    kind: str
    window: str
    now: str
    season: int
    event: str
    confirmed: int
    waiting: int


@dataclass(frozen=True)
class EntrantRow:
    entry: CompetitionEntry
    position: int | None  # on the waitlist
    name: str
    unit: str
    phone: str


def season_of(competition: Competition, today: dt.date) -> int:
    return window_on(competition.opens, competition.closes, today).season


def event_words(competition: Competition, season: int) -> str:
    day = event_day(competition, season)
    if day is None:
        return "—"
    return f"{day.year}年{day.month}月{day.day}日 {competition.event_time}"


def _get_competition(session: Session, code: str, lock: bool = False) -> Competition:
    competition = lock_competition(session, code) if lock else session.get(Competition, code)
    if competition is None:
        abort(404)
    return competition


def entrant_row(entry: CompetitionEntry, position: int | None) -> EntrantRow:
    answers = entry.answers or {}
    name = str(answers.get("name") or "")
    employer = str(answers.get("employer") or entry.unit or "")
    phone = str(answers.get("phone") or "")
    return EntrantRow(
        entry,
        position,
        mask_name(name) if name else "—",
        mask_text(employer) or "—",
        mask_phone(phone) if phone else "—",
    )


# --- views ---------------------------------------------------------------------


@bp.get("/competitions")
@login_required
def competition_list():
    today = local_today(utcnow())
    with runtime().session_factory() as session:
        counts = standing_counts(session)
        rows = []
        for competition in competitions(session, active_only=False):
            season = season_of(competition, today)
            rows.append(
                CompetitionRow(
                    competition,
                    KIND_LABELS.get(competition.kind, competition.kind),
                    window_words(competition.opens, competition.closes),
                    window_status(competition.opens, competition.closes, today),
                    season,
                    event_words(competition, season),
                    counts.get((competition.code, season, CONFIRMED), 0),
                    counts.get((competition.code, season, WAITLISTED), 0),
                )
            )
        return render_template("admin/competitions.html", rows=rows)


def _render_competition(session: Session, competition: Competition, form: CompetitionForm):
    today = local_today(utcnow())
    season = season_of(competition, today)
    rows = [
        entrant_row(entry, position)
        for entry, position in entrants(session, competition.code, season, orgs=staff_scope().orgs)
    ]
    return render_template(
        "admin/competition.html",
        competition=competition,
        kind=KIND_LABELS.get(competition.kind, competition.kind),
        window=window_words(competition.opens, competition.closes),
        window_now=window_status(competition.opens, competition.closes, today),
        event=event_words(competition, season),
        season=season,
        confirmed=[row for row in rows if row.position is None],
        waiting=[row for row in rows if row.position is not None],
        totals={
            "confirmed": count_entries(session, competition.code, season, CONFIRMED),
            "waiting": count_entries(session, competition.code, season, WAITLISTED),
        },
        cancelled=count_entries(session, competition.code, season, CANCELLED),
        form=form,
        trail=audit_trail(session, competition.code),
        changed_words=changed_words,
    )


@bp.get("/competitions/<code>")
@login_required
def competition(code: str):
    with runtime().session_factory() as session:
        found = _get_competition(session, code)
        form = CompetitionForm(formdata=None, data=competition_form_data(found))
        return _render_competition(session, found, form)


@bp.post("/competitions/<code>")
@login_required
def edit_competition(code: str):
    """Save the competition's settings; a smaller capacity never cancels anyone."""
    with serialised(runtime().session_factory) as session, session.begin():
        # Under the row lock sign-ups take: places are never counted against half an edit.
        found = _get_competition(session, code, lock=True)
        form = CompetitionForm()
        if not form.validate_on_submit():
            return _render_competition(session, found, form), 400
        changed, message = save_changes(session, found, form)
        if "capacity" in changed:
            season = season_of(found, local_today(utcnow()))
            moved = promote_waitlist(session, found, season, utcnow())
            if moved:
                message += f"名额增加，候补的{len(moved)}人已按顺序递补并收到通知。"
        code = found.code
    flash(message)
    return redirect(url_for("admin.competition", code=code))


@bp.post("/competitions/<code>/entries/<int:entry_id>/cancel")
@login_required
def cancel_competition_entry(code: str, entry_id: int):
    """Cancel an entry for a worker who asked by phone; the first waiting takes the place."""
    if not CancelForm().validate_on_submit():
        abort(400)
    with serialised(runtime().session_factory) as session, session.begin():
        # Lock first, then read the entry: a cancel in the chat cannot interleave.
        found = _get_competition(session, code, lock=True)
        entry = session.get(CompetitionEntry, entry_id, populate_existing=True)
        if entry is None or entry.competition_code != found.code:
            abort(404)
        in_scope_or_404(entry.org_code)
        name = entrant_row(entry, None).name
        if entry.status == CANCELLED:
            message = f"{name} 的报名已经取消，无需再次取消。"
        else:
            moved = cancel_entry(session, entry, utcnow()) or []
            detail = f"entry {entry.id}"
            message = f"已取消 {name} 的报名。"
            for promoted in moved[:1]:
                detail += f"; promoted entry {promoted.id}"
                told = session.get(Follower, promoted.follower_id) if promoted.follower_id else None
                promoted_name = entrant_row(promoted, None).name
                message += f"候补第1位 {promoted_name} 已递补为正式参赛，" + (
                    "系统已发消息通知。" if told else "但无法在服务号通知其本人，请电话联系。"
                )
            audit(session, staff_actor(), "cancel", found.code, detail)
    flash(message)  # after the commit: a failed commit must not announce a cancellation
    return redirect(url_for("admin.competition", code=code))
