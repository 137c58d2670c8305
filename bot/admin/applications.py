"""Aid applications as staff review them: the list, one application, reveals and decisions.

Personal numbers stay masked unless a staff member asks for one value and says
why; each such reveal (with its reason), each look at an application and each
decision is written to the audit log (PIPL arts. 51 and 55). What was revealed
never travels in a URL or a log line: the reveal is a POST, and the page after
it learns *which* field to show, once, from the signed session cookie, which
holds the field's key only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask import session as cookie
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from bot.admin.common import bp, in_scope_or_404, runtime, staff_actor, staff_scope
from bot.admin.reveal_reasons import RevealReasonForm
from models.aid import (
    NEEDS_INFO,
    REJECTED,
    STATUS_LABELS,
    TRANSITIONS,
    UNDECIDED,
    AidApplication,
    AidProgramme,
    ApplicationProof,
    TransitionError,
    find_application,
    list_applications,
    programmes,
    transition,
)
from models.audit import audit, audit_trail
from models.database import serialised
from models.form_schema import Field
from models.masking import mask_name, mask_text
from models.media import download_failure, find_media
from models.status_notices import notify_status

PER_PAGE = 50
# Answers of these kinds are masked on screen and can be revealed one at a time.
SENSITIVE_KINDS = frozenset({"id_number", "phone", "bank_card"})
# The worker must be told why: these notices quote the comment.
COMMENT_REQUIRED = frozenset({NEEDS_INFO, REJECTED})
# Served inline; anything else is a download, so a stored file can never run as a page here.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
REVEAL_KEY = "aid_reveal"
UNDECIDED_FILTER = "undecided"


class DecisionForm(FlaskForm):
    # Choices are checked by ``transition`` itself, so a stale page (another
    # reviewer decided first) gets the same clear message as a forged choice.
    to_status = SelectField(
        "处理结果", validate_choice=False, validators=[DataRequired("请选择处理结果")]
    )
    comment = TextAreaField(
        "说明（会随通知发给职工）", validators=[Length(max=500, message="说明不能超过500字")]
    )

    def validate_comment(self, field) -> None:
        if self.to_status.data in COMMENT_REQUIRED and not (field.data or "").strip():
            label = STATUS_LABELS[self.to_status.data]
            raise ValidationError(f"选择“{label}”时必须填写说明，告诉职工原因或需要补充的材料。")


class RevealForm(RevealReasonForm):
    field = HiddenField(validators=[DataRequired()])


@dataclass(frozen=True)
class AnswerRow:
    key: str
    label: str
    shown: str
    sensitive: bool  # masked, with a reveal button
    revealed: bool  # shown unmasked on this render


def staff_choices(status: str) -> list[tuple[str, str]]:
    """The statuses staff may move an application to from ``status``."""
    return [
        (to_status, STATUS_LABELS[to_status])
        for to_status, who in TRANSITIONS.get(status, {}).items()
        if who == "staff"
    ]


def _fields(programme: AidProgramme) -> list[Field]:
    return [Field.from_dict({"prompt": "", **entry}) for entry in programme.definition["fields"]]


def sensitive_keys(programme: AidProgramme, answers: dict[str, Any]) -> set[str]:
    return {
        f.key
        for f in _fields(programme)
        if f.kind in SENSITIVE_KINDS and answers.get(f.key) not in (None, "")
    }


def answer_rows(
    programme: AidProgramme, answers: dict[str, Any], revealed: str | None
) -> list[AnswerRow]:
    """Every answer with its label, in form order, masked by its field's kind."""
    rows = []
    sensitive = sensitive_keys(programme, answers)
    for field in _fields(programme):
        if field.key not in answers:
            continue
        value = answers[field.key]
        shown = str(value) if field.key == revealed and field.key in sensitive else None
        rows.append(
            AnswerRow(
                field.key,
                field.label,
                shown if shown is not None else field.show(value),
                field.key in sensitive,
                shown is not None,
            )
        )
    # Answers to questions the programme no longer asks: still shown, as free text.
    known = {row.key for row in rows}
    rows += [
        AnswerRow(key, key, mask_text(str(value)), False, False)
        for key, value in answers.items()
        if key not in known
    ]
    return rows


def applicant_name(application: AidApplication) -> str:
    name = application.answers.get("name")
    return mask_name(str(name)) if name else "—"


def _get_or_404(session: Session, reference: str, lock: bool = False) -> AidApplication:
    """The application, if it is the staff member's organisation's or below; else 404."""
    application = find_application(session, reference, lock=lock)
    if application is None:
        abort(404)
    in_scope_or_404(application.org_code)
    return application


@bp.get("/applications")
@login_required
def applications():
    """Applications, newest first, filtered by status and programme."""
    status = request.args.get("status", "")
    programme = request.args.get("programme", "")
    page = max(request.args.get("page", 1, type=int), 1)
    with runtime().session_factory() as session:
        listed = programmes(session, active_only=False)
        statuses = (
            UNDECIDED
            if status == UNDECIDED_FILTER
            else [status]
            if status in STATUS_LABELS
            else None
        )
        rows = list_applications(
            session,
            statuses,
            programme if programme in {p.code for p in listed} else None,
            offset=(page - 1) * PER_PAGE,
            limit=PER_PAGE + 1,
            orgs=staff_scope().orgs,
        )
        return render_template(
            "admin/applications.html",
            rows=[(a, applicant_name(a)) for a in rows[:PER_PAGE]],
            has_next=len(rows) > PER_PAGE,
            page=page,
            status=status,
            programme=programme,
            programmes=listed,
            statuses=[(k, v) for k, v in STATUS_LABELS.items() if k != "draft"],
        )


def _render_detail(
    session: Session,
    application: AidApplication,
    form: DecisionForm | None = None,
    revealed: str | None = None,
):
    """The application page; every render is an access to personal data, so it is audited."""
    audit(session, staff_actor(), "view", application.reference)
    if form is None:
        form = DecisionForm(formdata=None)
    allowed = staff_choices(application.status)
    # No preselected outcome: a decision is always an explicit choice.
    form.to_status.choices = [("", "请选择…"), *allowed] if allowed else []
    proofs = [
        (proof, find_media(session, proof.media_id), download_failure(session, proof.media_id))
        for proof in application.proofs
    ]
    session.flush()
    return render_template(
        "admin/application.html",
        application=application,
        answers=answer_rows(application.programme, application.answers, revealed),
        proofs=proofs,
        events=application.events,
        trail=audit_trail(session, application.reference),
        labels=STATUS_LABELS,
        field_labels={f.key: f.label for f in _fields(application.programme)},
        form=form,
    )


@bp.get("/applications/<reference>")
@login_required
def application(reference: str):
    marker = cookie.pop(REVEAL_KEY, None)
    with serialised(runtime().session_factory) as session, session.begin():
        found = _get_or_404(session, reference)
        revealed = marker[1] if marker and marker[0] == found.reference else None
        return _render_detail(session, found, revealed=revealed)


@bp.post("/applications/<reference>/reveal")
@login_required
def reveal(reference: str):
    """Show one sensitive answer unmasked on the next render, and record who asked and why."""
    form = RevealForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.field.errors:
            abort(400)
        flash(f"未显示完整内容：{form.first_error()}。")
        return redirect(url_for("admin.application", reference=reference), code=303)
    with serialised(runtime().session_factory) as session, session.begin():
        found = _get_or_404(session, reference)
        key = form.field.data
        if key not in sensitive_keys(found.programme, found.answers):
            abort(400)
        audit(session, staff_actor(), "reveal", found.reference, key, reason=form.stated())
        reference = found.reference
    cookie[REVEAL_KEY] = [reference, key]
    return redirect(url_for("admin.application", reference=reference, _anchor=f"answer-{key}"))


@bp.post("/applications/<reference>/decision")
@login_required
def decide(reference: str):
    """Move the application on, tell the worker, and record the decision."""
    app_runtime = runtime()
    with serialised(app_runtime.session_factory) as session, session.begin():
        found = _get_or_404(session, reference, lock=True)
        form = DecisionForm()
        if not form.validate_on_submit():
            return _render_detail(session, found, form), 400
        from_status, to_status = found.status, form.to_status.data
        to_label = STATUS_LABELS.get(to_status, to_status)
        comment = (form.comment.data or "").strip() or None
        try:
            event = transition(session, found, to_status, actor=staff_actor(), comment=comment)
        except TransitionError:
            message = (
                f"无法把申请从“{found.status_label}”改为“{to_label}”：当前状态不允许这样处理，"
                "可能已有其他人处理过，请查看最新状态。"
            )
        else:
            notified = notify_status(session, found, event, app_runtime.settings.union.hotline)
            change = f"{from_status}→{to_status}"
            audit(session, staff_actor(), "transition", found.reference, change)
            told = "已通知职工。" if notified else "未能通知职工（找不到其关注记录），请电话联系。"
            message = f"已将申请 {found.reference} 改为“{to_label}”，{told}"
        reference = found.reference
    flash(message)  # after the commit: a failed commit must not announce a decision
    return redirect(url_for("admin.application", reference=reference))


@bp.get("/applications/<reference>/proofs/<int:proof_id>")
@login_required
def proof(reference: str, proof_id: int):
    """A downloaded proof photo, to signed-in staff only; each opening is audited."""
    with serialised(runtime().session_factory) as session, session.begin():
        found = _get_or_404(session, reference)
        item = session.get(ApplicationProof, proof_id)
        if item is None or item.application_id != found.id:
            abort(404)
        media = find_media(session, item.media_id)
        if media is None:
            abort(404)  # not downloaded yet
        root = Path(runtime().settings.outbox.media_dir).resolve()
        path = (root / media.path).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            abort(404)
        audit(session, staff_actor(), "proof", found.reference, f"proof {item.id}")
        content_type = media.content_type
    response = send_file(
        path,
        mimetype=content_type,
        as_attachment=content_type not in INLINE_TYPES,
        download_name=path.name,
        max_age=0,
    )
    return response  # no-store and nosniff, as on every admin response (bot.admin.headers)
