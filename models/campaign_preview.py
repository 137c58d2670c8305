"""A run's plan before anything is queued: the account's quotas, the preview staff see
(count, masked sample, the channel for each part) and the refusals.

Used by the planner (:mod:`models.campaign_plan`) as its first check, and by the admin
and the CLI to show what a run would do now.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from models import audience
from models.campaign_runs import CampaignRecipient, CampaignRun
from models.campaigns import MASS, Campaign
from models.follower import Follower
from models.subscription import ACCEPT, SubscribeConsent
from models.windows import SHANGHAI


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
    # A template message for kind "campaign" on a service account reaches anyone; a
    # subscription notice reaches those who accepted its template.
    template: bool = False
    subscribe_template: str | None = None


@dataclass
class Plan:
    """What a run would do now: the preview, and the planner's first check."""

    audience: int = 0
    mass: int = 0
    over_quota: int = 0  # would get a notice because of the monthly mass quota
    notice_window: int = 0  # notices inside the 48-hour window (customer service)
    notice_other: int = 0  # outside it, by a template or a subscription notice they accepted
    unreachable: int = 0  # no channel may carry a campaign to them now: not sent
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
                f"{self.notice_other} 人在窗口外（模板消息或已同意的订阅通知）"
            )
        if self.unreachable:
            out.append(
                f"{self.unreachable} 人不发送：不在48小时互动窗口内，也没有可用的模板消息或订阅通知"
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


def mass_this_month(now: dt.datetime):
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
    used = mass_this_month(now).subquery()
    quota = limits.mass_per_follower_per_month
    if campaign.channel == MASS:
        if limits.account_type == "service":
            over = (
                select(func.count())
                .select_from(Follower)
                .join(used, used.c.follower_id == Follower.id)
                .where(*where, used.c.n >= quota)
            )
            plan.over_quota = session.scalar(over) or 0
        plan.mass = plan.audience - plan.over_quota
        plan.mass_calls = math.ceil(plan.mass / limits.mass_batch_size) if plan.mass >= 2 else 0
        if plan.mass == 1:  # a mass call needs two openids: the one left gets a notice
            plan.mass, plan.over_quota = 0, plan.over_quota + 1
        if plan.over_quota:
            _count_notices(session, plan, limits, now, [*where, used.c.n >= quota], used)
    else:
        _count_notices(session, plan, limits, now, where)
    plan.refusal = refusal(session, plan, limits, now)
    return plan


def _in_window(limits: Limits, now: dt.datetime):
    return Follower.last_interaction_at >= now - dt.timedelta(hours=limits.window_hours)


def _consented(limits: Limits):
    return exists().where(
        SubscribeConsent.follower_id == Follower.id,
        SubscribeConsent.template_id == limits.subscribe_template,
        SubscribeConsent.status == ACCEPT,
    )


def _count_notices(session, plan: Plan, limits: Limits, now, where: list, joined=None) -> None:
    """Split the followers ``where`` selects (who get a notice) by the channel that can
    reach them; ``joined``: a subquery ``where`` refers to."""

    def count(*extra) -> int:
        query = select(func.count()).select_from(Follower)
        if joined is not None:
            query = query.join(joined, joined.c.follower_id == Follower.id)
        return session.scalar(query.where(*where, *extra)) or 0

    total = count()
    plan.notice_window = count(_in_window(limits, now))
    if limits.template:
        plan.notice_other = total - plan.notice_window
    elif limits.subscribe_template:
        plan.notice_other = count(~_in_window(limits, now), _consented(limits))
    plan.unreachable = total - plan.notice_window - plan.notice_other


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
