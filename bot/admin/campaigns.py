"""群发活动: staff plan, preview, approve, schedule, pause, run, cancel and follow campaigns.

The rules live in the models (:mod:`models.campaigns`, :mod:`models.campaign_control`):
the approver must differ from the author whoever posts the form, and an edit after
approval returns the campaign to draft. Each action is audited there, by staff name.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from bot.admin.common import bp, local_time, runtime, staff_actor
from bot.campaign_runner import limits, quiet_hours
from models import campaign_control as control
from models import campaigns as c
from models.audience import RULE_WORDS, describe
from models.audit import audit_trail
from models.base import utcnow
from models.campaign_preview import preview
from models.campaign_runs import failures, runs_of, tally, wechat_figures
from models.campaign_schedule import ScheduleError, upcoming
from models.database import serialised

# The audience rule's parameters, by form field (the campaign's own 季节 is "season").
AUDIENCE_FIELDS = {
    "programme": "programme",
    "competition": "competition",
    "audience_season": "season",
    "tag_id": "tag_id",
    "days": "days",
}
NUMBERS = ("season", "tag_id", "days")
ACTIONS = {
    "approve": "审核通过",
    "schedule": "排期",
    "pause": "暂停",
    "resume": "恢复",
    "run": "立即发送",
    "cancel": "取消活动",
}


class ActionForm(FlaskForm):
    """Only the CSRF token: the fields are read from the request by :func:`_values`."""


def _values(form: Any) -> dict[str, Any]:
    """A campaign's fields as staff typed them, in the model's shapes."""
    audience: dict[str, Any] = {"rule": form.get("rule", "all")}
    for name, key in AUDIENCE_FIELDS.items():
        raw = (form.get(name) or "").strip()
        if raw:
            audience[key] = int(raw) if key in NUMBERS and raw.isdigit() else raw
    return {
        "code": (form.get("code") or "").strip(),
        "name": (form.get("name") or "").strip(),
        "season": form.get("season", "other"),
        "send_times": [
            line.strip() for line in (form.get("send_times") or "").splitlines() if line.strip()
        ],
        "audience": audience,
        "channel": form.get("channel", c.MASS),
        "content": (form.get("content") or "").replace("\r\n", "\n").strip(),
        "media_id": (form.get("media_id") or "").strip() or None,
    }


def _render_form(values: dict[str, Any], error: str | None, code: str | None = None):
    return render_template(
        "admin/campaign_form.html",
        values=values,
        error=error,
        code=code,
        rules=RULE_WORDS,
        seasons=c.SEASON_WORDS,
        channels=c.CHANNEL_WORDS,
        form=ActionForm(),
    )


def _get_or_404(session: Session, code: str) -> c.Campaign:
    campaign = c.find_campaign(session, code)
    if campaign is None or campaign.code != code:
        abort(404)
    return campaign


@bp.get("/campaigns")
@login_required
def campaign_list():
    with runtime().session_factory() as session:
        return render_template(
            "admin/campaigns.html", campaigns=c.campaigns(session), describe=describe
        )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new():
    if request.method == "GET":
        blank = {"season": "other", "channel": c.MASS, "audience": {"rule": "all"}}
        return _render_form(blank, None)
    if not ActionForm().validate_on_submit():
        abort(400)
    values = _values(request.form)
    if not values["code"].replace("_", "").isalnum() or not values["code"].isascii():
        return _render_form(values, "编号只能用英文字母、数字和下划线，例如 spring_2027。")
    with serialised(runtime().session_factory) as session, session.begin():
        try:
            c.create(session, values, staff_actor())
        except c.CampaignError as exc:
            return _render_form(values, str(exc))
    flash("活动已创建为草稿，请另一位工作人员审核。")
    return redirect(url_for("admin.campaign", code=values["code"]))


@bp.get("/campaigns/<code>")
@login_required
def campaign(code: str):
    settings = runtime().settings
    now = utcnow()
    with runtime().session_factory() as session:
        found = _get_or_404(session, code)
        try:
            next_times = upcoming(found.send_times, now)
        except ScheduleError:
            next_times = []
        runs = [
            {
                "run": run,
                "counts": tally(session, run.id),
                "wechat": wechat_figures(session, run.id),
                "failures": failures(session, run.id, limit=10),
            }
            for run in runs_of(session, found.id)
        ]
        return render_template(
            "admin/campaign.html",
            campaign=found,
            plan=preview(session, found, limits(settings), now),
            audience=describe(found.audience),
            next_times=next_times,
            runs=runs,
            trail=audit_trail(session, found.code),
            actions=ACTIONS,
            channels=c.CHANNEL_WORDS,
            form=ActionForm(),
        )


@bp.route("/campaigns/<code>/edit", methods=["GET", "POST"])
@login_required
def campaign_edit(code: str):
    with serialised(runtime().session_factory) as session, session.begin():
        found = _get_or_404(session, code)
        if request.method == "GET":
            values = {name: getattr(found, name) for name in c.EDITABLE} | {"code": found.code}
            return _render_form(values, None, code)
        if not ActionForm().validate_on_submit():
            abort(400)
        values = _values(request.form)
        values.pop("code")
        try:
            changed = control.edit(session, found, values, staff_actor(), utcnow())
        except c.CampaignError as exc:
            return _render_form(values | {"code": code}, str(exc), code)
        back = "，已退回草稿，需要重新审核" if changed and found.status == c.DRAFT else ""
    flash(f"已保存{back}。" if changed else "没有修改。")
    return redirect(url_for("admin.campaign", code=code))


@bp.post("/campaigns/<code>/<action>")
@login_required
def campaign_action(code: str, action: str):
    if action not in ACTIONS:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    settings, actor, now = runtime().settings, staff_actor(), utcnow()
    with serialised(runtime().session_factory) as session, session.begin():
        found = _get_or_404(session, code)
        try:
            message = _act(session, found, action, actor, now, settings)
        except c.CampaignError as exc:
            message = f"未能{ACTIONS[action]}：{exc}"
    flash(message)
    return redirect(url_for("admin.campaign", code=code))


def _act(session: Session, found: c.Campaign, action: str, actor: str, now, settings) -> str:
    if action == "approve":
        c.approve(session, found, actor, now)
    elif action == "schedule":
        due = c.schedule(session, found, actor, now)
        return f"已排期，下次发送：{local_time(due)}（北京时间）。"
    elif action == "pause":
        control.pause(session, found, actor)
    elif action == "resume":
        control.resume(session, found, actor, now)
    elif action == "cancel":
        control.cancel(session, found, actor, now)
    else:  # run now; the scheduler plans it within a minute (after the quiet hours)
        shown = preview(session, found, limits(settings), now)
        if shown.refusal:
            raise c.CampaignError(shown.refusal)
        run = control.run_now(session, found, actor, now, quiet_hours(settings))
        if run.not_before > now:
            start = local_time(run.not_before)
            return f"现在是免打扰时段，将在 {start} 开始发送（第 {run.id} 次发送）。"
        return f"已加入发送队列（第 {run.id} 次发送），调度程序会在一分钟内开始发送。"
    return f"已{ACTIONS[action]}。"
