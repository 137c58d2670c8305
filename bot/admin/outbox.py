"""Undeliverable messages (未送达消息): outbox rows that have not (yet) reached WeChat."""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from bot.admin.common import bp, runtime, staff_scope
from models.outbox import (
    DEAD,
    FAILED,
    HELD,
    PENDING,
    SENDING,
    count_by_status,
    messages_with_status,
)


@bp.get("/outbox")
@login_required
def outbox():
    """Messages that have not (yet) reached WeChat, with the reason."""
    status = request.args.get("status", "")
    shown = (status,) if status in (DEAD, FAILED, HELD, PENDING, SENDING) else (DEAD, FAILED, HELD)
    with runtime().session_factory() as session:
        rows = messages_with_status(session, shown, limit=200, orgs=staff_scope().orgs)
        return render_template(
            "admin/outbox.html", rows=rows, counts=count_by_status(session), status=status
        )
