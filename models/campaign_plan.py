"""The planner: who gets a run's message by which channel, within WeChat's quotas.

Channels
    A mass campaign sends by WeChat mass send (群发) in calls of up to
    ``mass_batch_size`` openids, each call with a ``clientmsgid`` fixed by run and
    batch (a retried call gets 45065, already sent). On a service account each follower
    receives at most ``mass_per_follower_per_month`` mass messages (WeChat drops the
    rest silently), so a follower who has had them this month gets a notice instead;
    so does the last follower of a run alone in a batch (a call needs two openids). A
    notice goes through the outbox's channel policy: customer service in the 48-hour
    window, a subscription notice they accepted, a template message, else held for
    their next message.

Refusals
    A subscription account may mass-send ``mass_sends_per_day`` times a day. A run
    that would need more calls than today has left is refused before anything is
    queued, with the reason; so is one with nobody in its audience.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import audience
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
from models.windows import SHANGHAI
from models.wishes import ReminderWish

KIND = "campaign"  # the outbox kind: [outbox] templates and deadlines are keyed by it


@dataclass(frozen=True)
class Limits:
    """The account's quotas and the planner's sizes (from ``[campaigns]``)."""

    account_type: str = "service"
    mass_per_follower_per_month: int = 4
    mass_sends_per_day: int = 1
    plan_batch_size: int = 1000
    mass_batch_size: int = 10_000
    notice_deadline_hours: float = 72.0
    window_hours: int = 48


@dataclass
class Plan:
    """What a run would do now: the preview, and the planner's first check."""

    audience: int = 0
    mass: int = 0
    over_quota: int = 0  # would get a notice because of the monthly mass quota
    notice_window: int = 0  # notices inside the 48-hour window (customer service)
    notice_other: int = 0  # notices outside it: subscription, template, or held
    mass_calls: int = 0
    refusal: str | None = None
    sample: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The channel plan in staff's words."""
        out = [f"受众：{self.audience} 人"]
        if self.mass_calls:
            out.append(f"群发：{self.mass} 人，分 {self.mass_calls} 次调用（每次最多1万人）")
        if self.over_quota:
            out.append(f"其中 {self.over_quota} 人本月已收满群发条数，改为逐人通知")
        if self.notice_window or self.notice_other:
            out.append(
                f"逐人通知：{self.notice_window} 人在48小时互动窗口内（客服消息），"
                f"{self.notice_other} 人在窗口外"
                "（订阅通知或模板消息，没有授权的等其下次发消息时送达）"
            )
        if self.refusal:
            out.append(f"不能发送：{self.refusal}")
        return out


def month_start(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(SHANGHAI)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def day_start(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def _mass_this_month(now: dt.datetime):
    """Followers' mass messages this month (Beijing calendar), as a grouped subquery."""
    return (
        select(CampaignRecipient.follower_id, func.count().label("n"))
        .where(CampaignRecipient.channel == MASS, CampaignRecipient.created_at >= month_start(now))
        .group_by(CampaignRecipient.follower_id)
    )


def mass_calls_today(session: Session, now: dt.datetime) -> int:
    query = select(func.coalesce(func.sum(CampaignRun.mass_calls), 0)).where(
        CampaignRun.started_at >= day_start(now)
    )
    return session.scalar(query) or 0


def preview(session: Session, campaign: Campaign, limits: Limits, now: dt.datetime) -> Plan:
    """Counts, a masked sample and the channel plan, read without writing anything."""
    rule = campaign.audience
    where = audience.conditions(rule, now)
    plan = Plan(audience=audience.count(session, rule, now))
    plan.sample = [audience.mask_openid(r.openid) for r in audience.page(session, rule, now, 0, 5)]
    in_window = Follower.last_interaction_at >= now - dt.timedelta(hours=limits.window_hours)
    if campaign.channel == MASS:
        if limits.account_type == "service":
            used = _mass_this_month(now).subquery()
            over = (
                select(func.count())
                .select_from(Follower)
                .join(used, used.c.follower_id == Follower.id)
                .where(*where, used.c.n >= limits.mass_per_follower_per_month)
            )
            plan.over_quota = session.scalar(over) or 0
        plan.mass = plan.audience - plan.over_quota
        plan.mass_calls = math.ceil(plan.mass / limits.mass_batch_size) if plan.mass >= 2 else 0
        if plan.mass == 1:  # a mass call needs two openids: the one left gets a notice
            plan.mass, plan.over_quota = 0, plan.over_quota + 1
        notices = plan.audience - plan.mass
        if notices:
            window = select(func.count()).select_from(Follower).where(*where, in_window)
            plan.notice_window = min(notices, session.scalar(window) or 0)
            plan.notice_other = notices - plan.notice_window
    else:
        window = select(func.count()).select_from(Follower).where(*where, in_window)
        plan.notice_window = session.scalar(window) or 0
        plan.notice_other = plan.audience - plan.notice_window
    plan.refusal = refusal(session, plan, limits, now)
    return plan


def refusal(session: Session, plan: Plan, limits: Limits, now: dt.datetime) -> str | None:
    if plan.audience == 0:
        return "受众为0人：没有符合条件、仍关注且未退订的职工。"
    if limits.account_type == "subscription" and plan.mass_calls:
        left = max(0, limits.mass_sends_per_day - mass_calls_today(session, now))
        if plan.mass_calls > left:
            return (
                f"订阅号每天只能群发{limits.mass_sends_per_day}次，今天还剩{left}次，"
                f"这次需要{plan.mass_calls}次。请改到明天，或缩小受众。"
            )
    return None


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
        sub = _mass_this_month(now).where(CampaignRecipient.follower_id.in_(ids))
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
    _queue_notices(session, run, campaign, notices, limits, now)
    members: list[dict] = []
    for recipient in mass:
        members.append(_member(run, recipient.id, MASS, run.batch_no, now))
        run.batch_fill += 1
        if run.batch_fill >= limits.mass_batch_size:
            _insert(session, CampaignRecipient, members)
            members = []
            _finish_mass_batch(session, run, campaign, limits, now, last=False)
    _insert(session, CampaignRecipient, members)
    if campaign.audience.get("rule") == "wishes":
        session.execute(
            update(ReminderWish)
            .where(
                *audience.wish_conditions(campaign.audience),
                ReminderWish.follower_id.in_([r.id for r in page]),
            )
            .values(notified_at=now)
        )
    run.cursor = page[-1].id
    return len(page)


def _member(run: CampaignRun, follower_id: int, channel: str, batch, now) -> dict:
    return {
        "run_id": run.id,
        "follower_id": follower_id,
        "channel": channel,
        "batch": batch,
        "created_at": now,
    }


def _insert(session: Session, model, rows: list[dict], conflict: list[str] | None = None) -> None:
    """Many rows in one statement; a row planned before a crash is skipped, not doubled."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).on_conflict_do_nothing(index_elements=conflict)
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
    _insert(
        session,
        CampaignRecipient,
        [_member(run, r.id, "notice", None, now) for r in recipients],
    )
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
        select(Follower.id, Follower.openid)
        .join(CampaignRecipient, CampaignRecipient.follower_id == Follower.id)
        .where(CampaignRecipient.run_id == run.id, CampaignRecipient.batch == run.batch_no)
        .order_by(Follower.id)
    ).all()
    if last and len(members) == 1:  # WeChat takes two openids or more per call
        [(follower_id, openid)] = members
        session.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.run_id == run.id, CampaignRecipient.follower_id == follower_id)
            .values(channel="notice", batch=None)
        )
        row = _outbox_row(
            notice_key(run.id, follower_id),
            NOTICE_ROW,
            {"text": campaign.content},
            follower_id,
            openid,
            run,
            now,
            limits.notice_deadline_hours,
        )
        _insert(session, OutboxMessage, [row], ["idempotency_key"])
    else:
        payload = {
            "openids": [openid for _, openid in members],
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
