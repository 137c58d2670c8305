"""The admin's front page: counts, open alerts, the outbox at a glance and recent messages."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from bot.admin.common import bp, runtime, staff_scope
from models.aid import count_undecided
from models.alerts import open_alerts
from models.delivery import count_deliveries, recent_deliveries
from models.follower import count_subscribed
from models.outbox import count_by_status, count_uncertain


@bp.get("/")
@login_required
def index():
    # Workers' numbers are of the staff member's organisations; the outbox and alerts are
    # the service's own health, the same for everyone.
    orgs = staff_scope().orgs
    with runtime().session_factory() as session:
        counts = {
            "followers": count_subscribed(session, orgs=orgs),
            "messages": count_deliveries(session, orgs=orgs),
            "failed": count_deliveries(session, status="failed", orgs=orgs),
        }
        deliveries = recent_deliveries(session, orgs=orgs)
        undecided = count_undecided(session, orgs=orgs)
        return render_template(
            "admin/index.html",
            counts=counts,
            undecided=undecided,
            deliveries=deliveries,
            alerts=open_alerts(session),
            outbox=count_by_status(session),
            uncertain=count_uncertain(session),
        )
