"""Scheduled jobs. Each takes the app's :class:`~bot.Runtime` and does one thing."""

from __future__ import annotations

import datetime as dt
import logging

from bot import Runtime, campaign_runner
from models.base import utcnow
from models.conversation import purge_conversations_before
from models.database import serialised
from models.delivery import purge_deliveries_before
from models.reminders import send_reminders

log = logging.getLogger(__name__)


def purge_old_transcripts(runtime: Runtime) -> int:
    """Delete message transcripts older than the retention period (PIPL art. 19)."""
    days = runtime.settings.privacy.transcript_retention_days
    with runtime.session_factory.begin() as session:
        removed = purge_deliveries_before(session, utcnow() - dt.timedelta(days=days))
    if removed:
        log.info("purged %d messages older than %d days", removed, days)
    return removed


def purge_abandoned_drafts(runtime: Runtime) -> int:
    """Delete unfinished forms nobody touched within the retention period (PIPL art. 19)."""
    days = runtime.settings.forms.draft_retention_days
    with runtime.session_factory.begin() as session:
        removed = purge_conversations_before(session, utcnow() - dt.timedelta(days=days))
    if removed:
        log.info("purged %d drafts untouched for %d days", removed, days)
    return removed


def remind_entrants(runtime: Runtime) -> int:
    """Queue reminders to confirmed entrants of events starting within the lead time."""
    lead = dt.timedelta(hours=runtime.settings.competitions.reminder_hours)
    with serialised(runtime.session_factory) as session, session.begin():
        sent = send_reminders(session, utcnow(), lead)
    if sent:
        log.info("queued %d competition reminders", sent)
    return sent


def run_campaigns(runtime: Runtime) -> int:
    """Fire campaigns' due send times, plan their runs into the outbox, close finished runs."""
    return campaign_runner.tick(runtime)
