"""The planner: who gets a run's message by which channel, within WeChat's quotas.

Channels
    A mass campaign sends by WeChat mass send (群发) in calls of up to
    ``mass_batch_size`` openids, each call with a ``clientmsgid`` fixed by run and
    batch (a retried call gets 45065, already sent). On a service account each follower
    receives at most ``mass_per_follower_per_month`` mass messages (WeChat drops the
    rest silently), so a follower who has had them this month gets a notice instead;
    so does the last follower of a run alone in a batch (a call needs two openids). A
    notice is queued only where a channel can carry it now: customer service in the
    48-hour window, a subscription notice they accepted, a campaign template on a
    service account (the outbox's channel policy picks among them when it sends).
    Anyone else is recorded as not reached: a campaign held for a worker's next
    message could arrive weeks late.

Refusals
    A subscription account may mass-send ``mass_sends_per_day`` times a day. A run
    that would need more calls than today has left is refused before anything is
    queued, with the reason; so is one with nobody in its audience.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Integer, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import audience
from models.base import UTCDateTime
from models.campaign_preview import Limits, mass_this_month, preview
from models.campaign_runs import (
    PLANNING,
    REFUSED,
    SENDING_RUN,
    CampaignRecipient,
    CampaignRun,
    client_msg_id,
    mass_key,
    notice_key,
)
from models.campaigns import MASS, Campaign, may_send
from models.follower import Follower
from models.outbox import MASS as MASS_ROW
from models.outbox import NOTICE as NOTICE_ROW
from models.outbox import PENDING, OutboxMessage
from models.subscription import ACCEPT, SubscribeConsent
from models.wishes import ReminderWish

KIND = "campaign"  # the outbox kind: [outbox] templates and deadlines are keyed by it
UNREACHABLE = "none"  # a recipient's channel when nothing could carry it


def begin(session: Session, run: CampaignRun, campaign: Campaign, limits: Limits, now) -> bool:
    """Check the quotas when a run starts; refuse it (return False) if they forbid it."""
    if run.started_at is not None:
        return run.status == PLANNING
    plan = preview(session, campaign, limits, now)
    run.started_at = now
    if plan.refusal:
        run.status, run.reason, run.finished_at = REFUSED, plan.refusal, now
        return False
    return True


def plan_page(
    session: Session, run: CampaignRun, campaign: Campaign, limits: Limits, now: dt.datetime
) -> int:
    """Queue the next page of the audience; return how many it queued (0: all planned).

    Runs in the caller's transaction, which must also hold the run's row lock."""
    page = audience.page(session, campaign.audience, now, run.cursor, limits.plan_batch_size)
    if not page:
        _finish_mass_batch(session, run, campaign, limits, now, last=True)
        run.status = SENDING_RUN
        return 0
    used: dict[int, int] = {}
    if campaign.channel == MASS and limits.account_type == "service":
        ids = [r.id for r in page]
        sub = mass_this_month(now).where(CampaignRecipient.follower_id.in_(ids))
        used = dict(session.execute(sub).all())
    mass, notices = [], []
    for recipient in page:
        if (
            campaign.channel == MASS
            and used.get(recipient.id, 0) < limits.mass_per_follower_per_month
        ):
            mass.append(recipient)
        else:
            notices.append(recipient)
    reachable = _reachable(session, campaign, notices, limits, now)
    _queue_notices(session, run, campaign, [r for r in notices if r.id in reachable], limits, now)
    _add_recipients(
        session, run, [r.id for r in notices if r.id not in reachable], UNREACHABLE, now
    )
    members: list[int] = []
    for recipient in mass:
        members.append(recipient.id)
        run.batch_fill += 1
        if run.batch_fill >= limits.mass_batch_size:
            _add_recipients(session, run, members, MASS, now)
            members = []
            _finish_mass_batch(session, run, campaign, limits, now, last=False)
    _add_recipients(session, run, members, MASS, now)
    if campaign.audience.get("rule") == "wishes":  # answered: a message to them is queued
        queued = [r.id for r in mass] + [r.id for r in notices if r.id in reachable]
        session.execute(
            update(ReminderWish)
            .where(
                *audience.wish_conditions(campaign.audience),
                ReminderWish.follower_id.in_(queued),
            )
            .values(notified_at=now)
        )
    run.cursor = page[-1].id
    return len(page)


def _reachable(session: Session, campaign, recipients: list, limits: Limits, now) -> set[int]:
    """Which of ``recipients`` a notice can reach now: inside the 48-hour window, or by a
    template message, or by a subscription notice they accepted. None if the campaign is
    an article without text: a notice carries text only."""
    if not campaign.content.strip():
        return set()
    if limits.template:
        return {r.id for r in recipients}
    since = now - dt.timedelta(hours=limits.window_hours)
    found = {r.id for r in recipients if r.last_interaction_at and r.last_interaction_at >= since}
    rest = [r.id for r in recipients if r.id not in found]
    if limits.subscribe_template and rest:
        found |= set(
            session.scalars(
                select(SubscribeConsent.follower_id).where(
                    SubscribeConsent.follower_id.in_(rest),
                    SubscribeConsent.template_id == limits.subscribe_template,
                    SubscribeConsent.status == ACCEPT,
                )
            )
        )
    return found


def _add_recipients(session: Session, run: CampaignRun, ids: list[int], channel: str, now) -> None:
    """Record ``ids`` as recipients by ``channel`` (a mass one in the batch being filled).

    One INSERT … SELECT per call, the ids as one expanding IN: executemany made a round
    trip per row on PostgreSQL, most of a 100,000-follower run's planning time."""
    if not ids:
        return
    batch = run.batch_no if channel == MASS else None
    columns = select(
        literal(run.id),
        Follower.id,
        literal(channel),
        literal(batch, Integer),
        literal(now, UTCDateTime),
    ).where(Follower.id.in_(ids))
    names = ["run_id", "follower_id", "channel", "batch", "created_at"]
    statement = _dialect_insert(session)(CampaignRecipient).from_select(names, columns)
    session.execute(statement.on_conflict_do_nothing())


def _dialect_insert(session: Session):
    """INSERT with ON CONFLICT DO NOTHING: a row planned before a crash is skipped."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _insert(session: Session, model, rows: list[dict], conflict: list[str] | None = None) -> None:
    """Many rows in one statement; a row planned before a crash is skipped, not doubled."""
    if not rows:
        return
    statement = _dialect_insert(session)(model).on_conflict_do_nothing(index_elements=conflict)
    session.execute(statement, rows)


def _outbox_row(key: str, channel: str, payload: dict, follower_id, recipient, run, now, hours):
    """One outbox row as :func:`models.outbox.enqueue` writes it, for a bulk insert."""
    start = max(now, run.not_before)
    return {
        "idempotency_key": key,
        "channel": channel,
        "kind": KIND,
        "follower_id": follower_id,
        "recipient": recipient,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "uncertain": 0,
        "next_attempt_at": start,
        "expires_at": start + dt.timedelta(hours=hours),
        "created_at": now,
    }


def _queue_notices(session, run, campaign, recipients, limits: Limits, now) -> None:
    if not recipients:
        return
    payload = {"text": campaign.content}
    _add_recipients(session, run, [r.id for r in recipients], "notice", now)
    rows = [
        _outbox_row(
            notice_key(run.id, r.id),
            NOTICE_ROW,
            payload,
            r.id,
            r.openid,
            run,
            now,
            limits.notice_deadline_hours,
        )
        for r in recipients
    ]
    _insert(session, OutboxMessage, rows, ["idempotency_key"])


def _finish_mass_batch(session, run, campaign, limits: Limits, now, *, last: bool) -> None:
    """Queue the mass call for the batch being filled, and start the next batch."""
    if run.batch_fill == 0:
        return
    members = session.execute(
        select(Follower.id, Follower.openid, Follower.last_interaction_at)
        .join(CampaignRecipient, CampaignRecipient.follower_id == Follower.id)
        .where(CampaignRecipient.run_id == run.id, CampaignRecipient.batch == run.batch_no)
        .order_by(Follower.id)
    ).all()
    if last and len(members) == 1:  # WeChat takes two openids or more per call
        _alone_in_batch(session, run, campaign, limits, now, members[0])
    else:
        payload = {
            "openids": [member.openid for member in members],
            "client_msg_id": client_msg_id(run.id, run.batch_no),
        }
        payload |= (
            {"media_id": campaign.media_id} if campaign.media_id else {"text": campaign.content}
        )
        row = _outbox_row(
            mass_key(run.id, run.batch_no),
            MASS_ROW,
            payload,
            None,
            None,
            run,
            now,
            limits.notice_deadline_hours,
        )
        _insert(session, OutboxMessage, [row], ["idempotency_key"])
        run.mass_calls += 1
    run.batch_no, run.batch_fill = run.batch_no + 1, 0


def _alone_in_batch(session, run, campaign, limits: Limits, now, member) -> None:
    """The run's last follower, alone in a batch: a notice where one can reach them."""
    session.execute(
        delete(CampaignRecipient).where(
            CampaignRecipient.run_id == run.id, CampaignRecipient.follower_id == member.id
        )
    )
    recipient = audience.Recipient(*member)
    if _reachable(session, campaign, [recipient], limits, now):
        _queue_notices(session, run, campaign, [recipient], limits, now)
    else:
        _add_recipients(session, run, [member.id], UNREACHABLE, now)


def plan_run(
    transaction: Callable,
    run_id: int,
    limits: Limits,
    now: Callable[[], dt.datetime],
    progress: Callable[[int], None] | None = None,
) -> str:
    """Plan a run to the end, one page per transaction; return its status.

    ``transaction()`` opens a transaction holding the database's write lock (SQLite)
    or taken with the run's row lock (PostgreSQL), so two planners never interleave.
    Stops early, leaving the run to be continued, when the campaign is paused."""
    while True:
        with transaction() as session:
            run = session.scalars(
                select(CampaignRun).where(CampaignRun.id == run_id).with_for_update()
            ).one()
            campaign = session.get(Campaign, run.campaign_id)
            at = now()
            if run.status != PLANNING or not may_send(campaign) or run.not_before > at:
                return run.status
            if not begin(session, run, campaign, limits, at):
                return run.status
            queued = plan_page(session, run, campaign, limits, at)
        if progress and queued:
            progress(queued)
        if not queued:
            return SENDING_RUN
