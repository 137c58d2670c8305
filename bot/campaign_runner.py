"""Campaigns from the app's side: the account's quotas from the settings, and the minute
tick that fires due send times, plans runs and closes finished ones.

Sending itself is the outbox's: a run's mass calls and notices are outbox rows, sent by
the drainer (:mod:`bot.channels` sends a mass call with its ``clientmsgid`` and takes
45065 as already sent), so a campaign gets the same retries, breaker and rate limits
as every other message.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import contextmanager

from bot import Runtime
from bot.campaign_tags import store_tag, tag_openids
from bot.config import Settings
from bot.wechat.api import connect
from models.base import utcnow
from models.campaign_control import finish_runs, fire_due, runs_to_plan
from models.campaign_plan import KIND, plan_run
from models.campaign_preview import Limits
from models.campaign_runs import CampaignRun
from models.campaigns import Campaign
from models.database import serialised

log = logging.getLogger(__name__)


def limits(settings: Settings) -> Limits:
    cs = settings.campaigns
    return Limits(
        account_type=settings.wechat.account_type,
        mass_per_follower_per_month=cs.mass_per_follower_per_month,
        mass_sends_per_day=cs.mass_sends_per_day,
        plan_batch_size=cs.plan_batch_size,
        mass_batch_size=cs.mass_batch_size,
        notice_deadline_hours=cs.notice_deadline_hours,
        window_hours=settings.outbox.custom_window_hours,
        template=settings.wechat.account_type == "service" and KIND in settings.outbox.templates,
        subscribe_template=settings.outbox.subscribe_templates.get(KIND),
    )


def quiet_hours(settings: Settings) -> tuple[str, str]:
    return settings.campaigns.quiet_start, settings.campaigns.quiet_end


def transaction_for(runtime: Runtime) -> Callable:
    """Transactions that hold SQLite's write lock from the start (row locks on PostgreSQL)."""

    @contextmanager
    def transaction():
        with serialised(runtime.session_factory) as session, session.begin():
            yield session

    return transaction


def plan(
    runtime: Runtime,
    run_id: int,
    clock: Callable[[], dt.datetime] = utcnow,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Plan one run to its end (or until paused); return its status.

    A run to a WeChat tag first reads the tag's followers from WeChat."""
    with runtime.session_factory() as session:
        run = session.get(CampaignRun, run_id)
        audience = session.get(Campaign, run.campaign_id).audience
        fresh = run.started_at is None
    if fresh and audience.get("rule") == "tag":
        openids = tag_openids(
            connect(runtime.settings, runtime.session_factory), audience["tag_id"]
        )
        with transaction_for(runtime)() as session:
            store_tag(session, audience["tag_id"], openids)
    return plan_run(transaction_for(runtime), run_id, limits(runtime.settings), clock, progress)


def tick(runtime: Runtime, clock: Callable[[], dt.datetime] = utcnow) -> int:
    """Fire due send times, plan the runs whose time has come, close finished runs.

    Returns how many runs it planned. Idempotent: a tick that died half-way is
    finished by the next (a run has one row per send time; planning goes on from its
    cursor; outbox keys refuse a second copy)."""
    transaction = transaction_for(runtime)
    with transaction() as session:
        fired = fire_due(session, clock(), quiet_hours(runtime.settings))
        waiting = runs_to_plan(session, clock())
    for run in fired:
        log.info("campaign %s: run %s due at %s", run.campaign_id, run.id, run.due_at)
    for run_id in waiting:
        status = plan(runtime, run_id, clock)
        log.info("campaign run %s planned: %s", run_id, status)
    with transaction() as session:
        finish_runs(session, clock())
    return len(waiting)
