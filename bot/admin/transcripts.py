"""Followers' transcripts: what one worker sent and was sent, masked as staff read it."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import login_required

from bot.admin.common import bp, runtime, staff_actor, staff_scope
from models.audit import audit
from models.database import serialised
from models.delivery import transcript
from models.follower import Follower, follower_within


@bp.get("/followers/<int:follower_id>")
@login_required
def follower_transcript(follower_id: int):
    with serialised(runtime().session_factory) as session, session.begin():
        follower = session.get(Follower, follower_id)
        if follower is None or not follower_within(session, follower_id, staff_scope().orgs):
            abort(404)
        # What a worker typed is personal data, so reading it is recorded like a reveal.
        audit(session, staff_actor(), "transcript", f"follower:{follower.id}")
        return render_template(
            "admin/transcript.html", follower=follower, deliveries=transcript(session, follower_id)
        )
