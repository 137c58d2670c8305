"""Workers who asked for a person (``人工``): the call-back list staff work through."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required
from flask_wtf import FlaskForm

from bot.admin.common import bp, runtime, staff_actor
from models.audit import audit
from models.base import utcnow
from models.database import serialised
from models.handoff import HandoffRequest, open_handoffs, recent_handled


class DoneForm(FlaskForm):
    """Only the CSRF token: marking a request handled is one click."""


@bp.get("/handoffs")
@login_required
def handoffs():
    with runtime().session_factory() as session:
        return render_template(
            "admin/handoffs.html",
            waiting=open_handoffs(session),
            handled=recent_handled(session),
            form=DoneForm(),
        )


@bp.post("/handoffs/<int:request_id>/done")
@login_required
def handoff_done(request_id: int):
    if not DoneForm().validate_on_submit():
        abort(400)
    with serialised(runtime().session_factory) as session, session.begin():
        request = session.get(HandoffRequest, request_id)
        if request is None:
            abort(404)
        if request.handled_at is None:
            actor = staff_actor()
            request.handled_at, request.handled_by = utcnow(), actor.removeprefix("staff:")
            audit(session, actor, "handoff", f"handoff:{request.id}", "handled")
    flash("已标记为已联系。")
    return redirect(url_for("admin.handoffs"))
