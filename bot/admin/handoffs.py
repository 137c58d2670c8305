"""Workers who asked for a person (``人工``): the call-back list staff work through.

Each request shows what it is about (the form the worker was in, and their own
words) and the number to call, masked like every phone on these pages. Calling
needs the whole number: revealing it is a POST that states why, written to the
audit log, and the page after it learns *which* request to show unmasked from the
signed session cookie, once (as for an application's answers).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask import session as cookie
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from bot.admin.common import bp, runtime, staff_actor, staff_scope
from bot.admin.reveal_reasons import RevealReasonForm
from models.audit import audit
from models.base import utcnow
from models.database import serialised
from models.follower import follower_within
from models.handoff import HandoffRequest, open_handoffs, recent_handled
from models.masking import mask_phone, mask_text

REVEAL_KEY = "handoff_reveal"


class DoneForm(FlaskForm):
    """Only the CSRF token: marking a request handled is one click."""


def _row(request: HandoffRequest, revealed: int | None) -> dict:
    phone = request.phone or ""
    return {
        "request": request,
        "note": mask_text(request.note),
        "phone": phone if request.id == revealed else mask_phone(phone),
        "revealed": bool(phone) and request.id == revealed,
    }


def _get_or_404(session: Session, request_id: int) -> HandoffRequest:
    """The request, if the worker is of the staff member's organisations; else 404."""
    request = session.get(HandoffRequest, request_id)
    if request is None or not follower_within(session, request.follower_id, staff_scope().orgs):
        abort(404)
    return request


@bp.get("/handoffs")
@login_required
def handoffs():
    revealed = cookie.pop(REVEAL_KEY, None)
    with runtime().session_factory() as session:
        return render_template(
            "admin/handoffs.html",
            waiting=[_row(r, revealed) for r in open_handoffs(session, orgs=staff_scope().orgs)],
            handled=[_row(r, None) for r in recent_handled(session, orgs=staff_scope().orgs)],
            form=DoneForm(),
        )


@bp.post("/handoffs/<int:request_id>/reveal")
@login_required
def handoff_reveal(request_id: int):
    """Show one call-back number in full on the next render, and record who asked and why."""
    form = RevealReasonForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(f"未显示号码：{form.first_error()}。")
        return redirect(url_for("admin.handoffs", _anchor=f"handoff-{request_id}"), code=303)
    with serialised(runtime().session_factory) as session, session.begin():
        request = _get_or_404(session, request_id)
        if not request.phone:
            abort(404)
        audit(
            session, staff_actor(), "reveal", f"handoff:{request.id}", "phone", reason=form.stated()
        )
    cookie[REVEAL_KEY] = request_id
    return redirect(url_for("admin.handoffs", _anchor=f"handoff-{request_id}"))


@bp.post("/handoffs/<int:request_id>/done")
@login_required
def handoff_done(request_id: int):
    if not DoneForm().validate_on_submit():
        abort(400)
    with serialised(runtime().session_factory) as session, session.begin():
        request = _get_or_404(session, request_id)
        if request.handled_at is None:
            actor = staff_actor()
            request.handled_at, request.handled_by = utcnow(), actor.removeprefix("staff:")
            audit(session, actor, "handoff", f"handoff:{request.id}", "handled")
    flash("已标记为已联系。")
    return redirect(url_for("admin.handoffs"))
