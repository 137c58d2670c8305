"""Seasonal campaigns: what staff plan, who approves it, and its life from draft to done.

A campaign is planned once (its send times, audience, channel and text) and sent by
runs (:mod:`models.campaign_runs`), one per send time that comes due. Two people are
involved: the author and an approver who is not the author. Any edit after approval
returns the campaign to draft, so what is sent is always what the approver read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.audience import AudienceError, check_rule
from models.audit import audit
from models.base import Base, created_at, utcnow
from models.campaign_schedule import ScheduleError, next_send_time, parse_send_times
from models.data_sync import RowSync

# Statuses. ``paused`` remembers where it was (``paused_from``) to resume there.
DRAFT = "draft"
APPROVED = "approved"
SCHEDULED = "scheduled"
RUNNING = "running"
PAUSED = "paused"
DONE = "done"
CANCELLED = "cancelled"
STATUS_WORDS = {
    DRAFT: "草稿",
    APPROVED: "已审核",
    SCHEDULED: "已排期",
    RUNNING: "发送中",
    PAUSED: "已暂停",
    DONE: "已完成",
    CANCELLED: "已取消",
}

# Channels a campaign asks for: WeChat mass send (群发), or a notice to each worker
# through the channel policy (customer service in the 48-hour window, a subscription
# notice they accepted, a template message).
MASS = "mass"
NOTICE = "notice"
CHANNEL_WORDS = {MASS: "群发", NOTICE: "逐人通知"}
SEASON_WORDS = {"spring": "春", "summer": "夏", "autumn": "秋", "winter": "冬", "other": "其他"}

# WeChat has capped a mass text at 300 characters since April 2020.
MASS_TEXT_LIMIT = 300
# The columns staff edit; changing any after approval returns it to draft.
EDITABLE = ("name", "season", "send_times", "audience", "channel", "content", "media_id")


class CampaignError(ValueError):
    """A request the campaign cannot take, worded for staff."""


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    season: Mapped[str] = mapped_column(String(16), default="other")
    # One send time per line: "cron 0 9 * 1-3 tue", "2027-01-05 09:00", "除夕-3 10:00".
    send_times: Mapped[list[Any]] = mapped_column(default=list)
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel: Mapped[str] = mapped_column(String(16), default=MASS)
    content: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[str | None] = mapped_column(String(128), default=None)  # an article
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    paused_from: Mapped[str | None] = mapped_column(String(16), default=None)
    # staff:<username>, or "system" for the campaigns the data file brings.
    author: Mapped[str] = mapped_column(String(80), default="system")
    approver: Mapped[str | None] = mapped_column(String(80), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # When the next run falls due; None while not scheduled or with no time left.
    next_send_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    # The send time the schedule last fired for, so a restart never fires it twice.
    last_due_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The data file's values as last synced (see models.data_sync).
    synced: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    @property
    def status_word(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


def validate(values: dict[str, Any]) -> None:
    """Refuse what cannot be sent, with the reason: raise :class:`CampaignError`."""
    if not str(values.get("name") or "").strip():
        raise CampaignError("请填写活动名称。")
    if values.get("channel") not in CHANNEL_WORDS:
        raise CampaignError("发送方式只能是群发或逐人通知。")
    content, media_id = str(values.get("content") or ""), values.get("media_id")
    if not content.strip() and not media_id:
        raise CampaignError("请填写发送内容，或填写图文消息的素材ID（media_id）。")
    if values["channel"] == NOTICE and not content.strip():
        raise CampaignError("逐人通知只能发文字：请填写发送内容。")
    if values["channel"] == MASS and not media_id and len(content) > MASS_TEXT_LIMIT:
        raise CampaignError(
            f"群发文字最多{MASS_TEXT_LIMIT}字（微信的限制），现在有{len(content)}字。"
        )
    try:
        parse_send_times(values.get("send_times") or [])
    except ScheduleError as exc:
        raise CampaignError(str(exc)) from None
    try:
        check_rule(values.get("audience") or {})
    except AudienceError as exc:
        raise CampaignError(str(exc)) from None


def find_campaign(session: Session, name_or_code: str) -> Campaign | None:
    """By code or by name, as staff type it on the command line."""
    return session.scalars(
        select(Campaign).where((Campaign.code == name_or_code) | (Campaign.name == name_or_code))
    ).first()


def campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id)))


def create(session: Session, values: dict[str, Any], author: str) -> Campaign:
    validate(values)
    if session.scalar(select(Campaign.id).where(Campaign.code == values["code"])):
        raise CampaignError(f"编号 {values['code']} 已被使用。")
    campaign = Campaign(code=values["code"], author=author, status=DRAFT)
    for name in EDITABLE:
        setattr(campaign, name, values.get(name, getattr(campaign, name)))
    session.add(campaign)
    session.flush()
    audit(session, author, "campaign.create", campaign.code)
    return campaign


def edit(session: Session, campaign: Campaign, values: dict[str, Any], actor: str) -> list[str]:
    """Apply staff's changes; after approval any change returns the campaign to draft."""
    if campaign.status in (RUNNING, DONE, CANCELLED):
        raise CampaignError(f"活动{campaign.status_word}，不能修改。")
    merged = {name: getattr(campaign, name) for name in EDITABLE} | values
    validate(merged)
    changed = [name for name in EDITABLE if merged[name] != getattr(campaign, name)]
    for name in changed:
        setattr(campaign, name, merged[name])
    if changed:
        # Whoever wrote the text now on it is its author: they may not approve it.
        campaign.author = actor
        if campaign.status != DRAFT:
            _back_to_draft(campaign)
        audit(session, actor, "campaign.edit", campaign.code, ",".join(changed))
    return changed


def _back_to_draft(campaign: Campaign) -> None:
    campaign.status, campaign.paused_from = DRAFT, None
    campaign.approver = campaign.approved_at = campaign.next_send_at = None


def file_changed(campaign: Campaign, report: RowSync) -> None:
    """A sync brought new values from the data file: approval covered the old ones."""
    if report.updated and campaign.status not in (DRAFT, DONE, CANCELLED):
        _back_to_draft(campaign)
        report.updated.append("status (back to draft)")


def approve(session: Session, campaign: Campaign, approver: str, now: dt.datetime) -> None:
    """The second person's approval. The author may not approve their own campaign."""
    if campaign.status != DRAFT:
        raise CampaignError(f"活动{campaign.status_word}，只有草稿可以审核。")
    if approver == campaign.author:
        raise CampaignError("不能审核自己创建的活动：请由另一位工作人员审核（双人复核）。")
    validate({name: getattr(campaign, name) for name in EDITABLE})
    campaign.status, campaign.approver, campaign.approved_at = APPROVED, approver, now
    audit(session, approver, "campaign.approve", campaign.code)


def schedule(session: Session, campaign: Campaign, actor: str, now: dt.datetime) -> dt.datetime:
    """Start following the send times; return when the first run falls due."""
    if campaign.status != APPROVED:
        raise CampaignError(f"活动{campaign.status_word}，审核通过后才能排期。")
    due = next_send_time(campaign.send_times, now)
    if due is None:
        raise CampaignError("设定的发送时间都已过去：请修改发送时间。")
    campaign.status, campaign.next_send_at = SCHEDULED, due
    audit(session, actor, "campaign.schedule", campaign.code, f"next {due:%Y-%m-%d %H:%M}Z")
    return due


def pause(session: Session, campaign: Campaign, actor: str) -> None:
    if campaign.status not in (SCHEDULED, RUNNING):
        raise CampaignError(f"活动{campaign.status_word}，不能暂停。")
    campaign.paused_from, campaign.status = campaign.status, PAUSED
    audit(session, actor, "campaign.pause", campaign.code)


def resume(session: Session, campaign: Campaign, actor: str) -> None:
    if campaign.status != PAUSED:
        raise CampaignError(f"活动{campaign.status_word}，不需要恢复。")
    campaign.status, campaign.paused_from = campaign.paused_from or SCHEDULED, None
    audit(session, actor, "campaign.resume", campaign.code)


def cancel(session: Session, campaign: Campaign, actor: str) -> None:
    if campaign.status in (DONE, CANCELLED):
        raise CampaignError(f"活动{campaign.status_word}，不能取消。")
    campaign.status, campaign.next_send_at, campaign.paused_from = CANCELLED, None, None
    audit(session, actor, "campaign.cancel", campaign.code)


def may_send(campaign: Campaign) -> bool:
    """Whether a run of this campaign may go on now (approved and not paused or cancelled)."""
    return campaign.status in (APPROVED, SCHEDULED, RUNNING)
