"""Aid programmes as staff keep them: the list, and one programme's window, summary,
whether it takes applications and (for 夏送清凉) the places per station.

Each change is written to the audit log with the names of the fields changed
(never their values).
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required
from sqlalchemy.orm import Session
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from bot.admin.common import (
    MAX_PLACES,
    WindowForm,
    bp,
    changed_words,
    runtime,
    save_changes,
    window_data,
)
from models.aid import AidProgramme, programmes, quota_usage
from models.audit import audit_trail
from models.base import utcnow
from models.database import serialised
from models.windows import local_today, window_status, window_words

# --- the form ------------------------------------------------------------------


class ProgrammeForm(WindowForm):
    summary = TextAreaField(
        "简介（申请对象，职工查看项目时显示）",
        validators=[
            DataRequired("请填写简介。"),
            Length(max=1000, message="简介不能超过1000字"),
        ],
    )

    limits = TextAreaField("各领取点名额（每行一个：地点 数量）")

    def __init__(self, *args: Any, definition: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.definition = definition

    @property
    def quota(self) -> dict[str, Any] | None:
        return self.definition.get("quota")

    def validate_limits(self, field) -> None:
        if self.quota:
            field.parsed = parse_limits(field.data or "", self.quota["limits"])

    def values(self) -> dict[str, Any]:
        values = {**self.window_values(), "summary": self.summary.data.strip()}
        if self.quota:
            quota = {**self.quota, "limits": self.limits.parsed}
            values["definition"] = {**self.definition, "quota": quota}
        return values


def limits_text(limits: dict[str, int]) -> str:
    return "\n".join(f"{choice} {limit}" for choice, limit in limits.items())


def parse_limits(text: str, current: dict[str, int]) -> dict[str, int]:
    """``地点 数量`` per line for the places ``current`` knows; a place left out keeps its
    limit (places themselves are the form's choices and are not renamed here)."""
    limits = dict(current)
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        match = re.fullmatch(r"(.+?)[\s=:：]+(\d+)", line)
        if match is None:
            raise ValidationError(f"第{number}行应为“地点 数量”，例如“合德镇户外劳动者驿站 200”")
        place, limit = match.group(1).strip(), int(match.group(2))
        if place not in current:
            raise ValidationError(f"第{number}行：没有“{place}”这个地点")
        if limit > MAX_PLACES:
            raise ValidationError(f"第{number}行：名额不能超过{MAX_PLACES}")
        limits[place] = limit
    return limits


def programme_form_data(programme: AidProgramme) -> dict[str, Any]:
    quota = programme.definition.get("quota")
    limits = limits_text(quota["limits"]) if quota else ""
    return {**window_data(programme), "summary": programme.summary, "limits": limits}


# --- views ---------------------------------------------------------------------


@bp.get("/programmes")
@login_required
def programme_list():
    today = local_today(utcnow())
    with runtime().session_factory() as session:
        rows = [
            (
                programme,
                window_words(programme.opens, programme.closes),
                window_status(programme.opens, programme.closes, today),
            )
            for programme in programmes(session, active_only=False)
        ]
        return render_template("admin/programmes.html", rows=rows)


def _get_programme(session: Session, code: str, lock: bool = False) -> AidProgramme:
    programme = session.get(AidProgramme, code, with_for_update=True if lock else None)
    if programme is None:
        abort(404)
    return programme


def _render_programme(session: Session, programme: AidProgramme, form: ProgrammeForm):
    today = local_today(utcnow())
    return render_template(
        "admin/programme.html",
        programme=programme,
        window=window_words(programme.opens, programme.closes),
        window_now=window_status(programme.opens, programme.closes, today),
        form=form,
        trail=audit_trail(session, programme.code),
        changed_words=changed_words,
        quota=quota_usage(session, programme, programme.window(today).season),
        unit=programme.definition.get("quota", {}).get("unit", ""),
    )


@bp.get("/programmes/<code>")
@login_required
def programme(code: str):
    with runtime().session_factory() as session:
        found = _get_programme(session, code)
        form = ProgrammeForm(
            formdata=None, data=programme_form_data(found), definition=found.definition
        )
        return _render_programme(session, found, form)


@bp.post("/programmes/<code>")
@login_required
def edit_programme(code: str):
    with serialised(runtime().session_factory) as session, session.begin():
        found = _get_programme(session, code, lock=True)
        form = ProgrammeForm(definition=found.definition)
        if not form.validate_on_submit():
            return _render_programme(session, found, form), 400
        _, message = save_changes(session, found, form)
        code = found.code
    flash(message)
    return redirect(url_for("admin.programme", code=code))
