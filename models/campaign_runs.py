"""A campaign's runs: one per send time that came due (or per "run now"), and what each
sent to whom.

A run is planned page by page (:mod:`models.campaign_plan`); every page commits its
recipients, its outbox rows and the run's cursor together, so a planner killed at any
point goes on from the last page it committed and queues nobody twice (the outbox's
idempotency keys would refuse a second row anyway). The rows of a run are found by
their keys: ``campaign:{run}:{follower}`` for a notice, ``campaign:{run}:mass:{batch}``
for a mass-send call.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, created_at
from models.outbox import DEAD, FAILED, HELD, PENDING, SENDING, SENT, OutboxMessage

PLANNING = "planning"  # recipients still being queued (waits for not_before and pauses)
SENDING_RUN = "sending"  # everything queued; the outbox is sending
DONE_RUN = "done"
REFUSED = "refused"  # a quota would have been broken: nothing was queued
CANCELLED_RUN = "cancelled"
RUN_WORDS = {
    PLANNING: "排队中",
    SENDING_RUN: "发送中",
    DONE_RUN: "已完成",
    REFUSED: "已拒绝",
    CANCELLED_RUN: "已取消",
}
# Rows of a paused campaign wait here until it is resumed.
PAUSED_UNTIL = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


class CampaignRun(Base):
    __tablename__ = "campaign_runs"
    # One run per send time: a scheduler that fires again after a restart finds it.
    __table_args__ = (UniqueConstraint("campaign_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    due_at: Mapped[dt.datetime]
    not_before: Mapped[dt.datetime]  # due_at moved out of the quiet hours
    trigger: Mapped[str] = mapped_column(String(16), default="schedule")  # or manual
    actor: Mapped[str] = mapped_column(String(80), default="system")
    status: Mapped[str] = mapped_column(String(16), default=PLANNING, index=True)
    reason: Mapped[str | None] = mapped_column(Text, default=None)  # why refused
    cursor: Mapped[int] = mapped_column(default=0)  # the last follower id planned
    batch_no: Mapped[int] = mapped_column(default=0)  # the mass batch being filled
    batch_fill: Mapped[int] = mapped_column(default=0)
    mass_calls: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[created_at]

    @property
    def status_word(self) -> str:
        return RUN_WORDS.get(self.status, self.status)


class CampaignRecipient(Base):
    """Who a run queued, and how: what the monthly mass quota is counted from."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        Index("ix_campaign_recipients_quota", "follower_id", "channel", "created_at"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_runs.id", ondelete="CASCADE"), primary_key=True
    )
    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(16))  # mass or notice
    batch: Mapped[int | None] = mapped_column(default=None)  # the mass call it is in
    created_at: Mapped[dt.datetime]


class CampaignReport(Base):
    """WeChat's own figures for one send (a job-finish or notice-sent event)."""

    __tablename__ = "campaign_reports"
    __table_args__ = (UniqueConstraint("source", "wechat_msgid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_runs.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # mass, template, subscribe
    wechat_msgid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64), default="")
    total: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    filtered: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    at: Mapped[dt.datetime]


def notice_key(run_id: int, follower_id: int) -> str:
    return f"campaign:{run_id}:{follower_id}"


def mass_key(run_id: int, batch: int) -> str:
    return f"campaign:{run_id}:mass:{batch}"


def client_msg_id(run_id: int, batch: int) -> str:
    """The same id for the same run and batch, so a retried call cannot send twice."""
    return f"unionbot-campaign-{run_id}-{batch}"


def run_of_key(key: str) -> int | None:
    parts = key.split(":")
    return (
        int(parts[1]) if len(parts) >= 3 and parts[0] == "campaign" and parts[1].isdigit() else None
    )


def _rows_of(run_id: int):
    """The run's outbox rows, by a key range the unique index on keys serves."""
    prefix = f"campaign:{run_id}:"
    return (
        OutboxMessage.idempotency_key >= prefix,
        OutboxMessage.idempotency_key < prefix[:-1] + ";",  # ';' follows ':'
    )


def runs_of(session: Session, campaign_id: int) -> list[CampaignRun]:
    return list(
        session.scalars(
            select(CampaignRun)
            .where(CampaignRun.campaign_id == campaign_id)
            .order_by(CampaignRun.id.desc())
        )
    )


def start_run(
    session: Session,
    campaign_id: int,
    due_at: dt.datetime,
    not_before: dt.datetime,
    *,
    trigger: str = "schedule",
    actor: str = "system",
) -> CampaignRun:
    """The run for this send time: the existing one if it was created before."""
    run = session.scalars(
        select(CampaignRun).where(
            CampaignRun.campaign_id == campaign_id, CampaignRun.due_at == due_at
        )
    ).first()
    if run is None:
        run = CampaignRun(
            campaign_id=campaign_id,
            due_at=due_at,
            not_before=not_before,
            trigger=trigger,
            actor=actor,
        )
        session.add(run)
        session.flush()
    return run


def unfinished_runs(session: Session, campaign_id: int) -> list[CampaignRun]:
    return list(
        session.scalars(
            select(CampaignRun).where(
                CampaignRun.campaign_id == campaign_id,
                CampaignRun.status.in_((PLANNING, SENDING_RUN)),
            )
        )
    )


def hold_rows(session: Session, run_id: int) -> int:
    """Pausing: the run's queued rows wait until :func:`release_rows`."""
    return session.execute(
        update(OutboxMessage)
        .where(*_rows_of(run_id), OutboxMessage.status == PENDING)
        .values(next_attempt_at=PAUSED_UNTIL)
    ).rowcount


def release_rows(session: Session, run_id: int, now: dt.datetime) -> int:
    return session.execute(
        update(OutboxMessage)
        .where(*_rows_of(run_id), OutboxMessage.next_attempt_at == PAUSED_UNTIL)
        .values(next_attempt_at=now)
    ).rowcount


def drop_rows(session: Session, run_id: int, reason: str) -> int:
    """Cancelling: rows not yet sent are given up, with the reason shown to staff."""
    return session.execute(
        update(OutboxMessage)
        .where(*_rows_of(run_id), OutboxMessage.status == PENDING)
        .values(status=FAILED, last_error=reason)
    ).rowcount


def tally(session: Session, run_id: int) -> dict[str, int]:
    """Recipients by outcome: queued, sent, held (for their next message), failed, and
    unreachable (no channel could carry a campaign to them, so nothing was queued).

    A mass call's recipients share its outcome: WeChat reports a whole call at once."""
    counts = dict.fromkeys(("queued", "sent", "held", "failed", "unreachable"), 0)
    word = {PENDING: "queued", SENDING: "queued", SENT: "sent", HELD: "held"}
    rows = session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.status).where(*_rows_of(run_id))
    )
    batches = dict(
        session.execute(
            select(CampaignRecipient.batch, func.count())
            .where(CampaignRecipient.run_id == run_id, CampaignRecipient.channel == "mass")
            .group_by(CampaignRecipient.batch)
        ).all()
    )
    counts["unreachable"] = session.scalar(
        select(func.count()).where(
            CampaignRecipient.run_id == run_id, CampaignRecipient.channel == "none"
        )
    )
    for key, status in rows:
        bucket = word.get(status, "failed") if status not in (FAILED, DEAD) else "failed"
        if ":mass:" in key:
            counts[bucket] += batches.get(int(key.rsplit(":", 1)[1]), 0)
        else:
            counts[bucket] += 1
    return counts


def failures(session: Session, run_id: int, limit: int = 20) -> list[tuple[str, int | None, str]]:
    """Why sends failed: (recipient or batch key, WeChat's code, reason), newest first."""
    rows = session.execute(
        select(
            OutboxMessage.idempotency_key, OutboxMessage.last_error_code, OutboxMessage.last_error
        )
        .where(*_rows_of(run_id), OutboxMessage.status.in_((FAILED, DEAD)))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [(key, code, error or "") for key, code, error in rows]


def still_sending(session: Session, run_id: int) -> bool:
    query = select(func.count()).where(
        *_rows_of(run_id), OutboxMessage.status.in_((PENDING, SENDING))
    )
    return bool(session.scalar(query))


def wechat_figures(session: Session, run_id: int) -> dict[str, int]:
    """WeChat's own figures summed over its reports: total, sent, filtered, errors."""
    row = session.execute(
        select(
            func.coalesce(func.sum(CampaignReport.total), 0),
            func.coalesce(func.sum(CampaignReport.sent), 0),
            func.coalesce(func.sum(CampaignReport.filtered), 0),
            func.coalesce(func.sum(CampaignReport.errors), 0),
            func.count(),
        ).where(CampaignReport.run_id == run_id)
    ).one()
    return dict(zip(("total", "sent", "filtered", "errors", "reports"), row, strict=True))


def record_report(
    session: Session,
    source: str,
    wechat_msgid: str,
    now: dt.datetime,
    *,
    status: str = "",
    counts: tuple[int, int, int, int] = (0, 0, 0, 0),
    openid: str | None = None,
) -> CampaignReport | None:
    """Keep WeChat's report of a send under the run that made it; None if it is not a
    campaign's. ``counts``: total, sent, filtered, errors.

    Mass and template reports name the call by its msgid. A subscription notice's
    "sent" event names the worker, and bizsend returns no msgid, so it belongs to
    the latest campaign notice sent to that worker by subscription."""
    campaign_rows = (
        OutboxMessage.idempotency_key >= "campaign:",
        OutboxMessage.idempotency_key < "campaign;",
    )
    query = select(OutboxMessage.idempotency_key).where(*campaign_rows)
    if source == "subscribe":
        query = query.where(
            OutboxMessage.recipient == openid, OutboxMessage.sent_via == "subscribe"
        ).order_by(OutboxMessage.sent_at.desc())
    else:
        query = query.where(OutboxMessage.wechat_msgid == wechat_msgid)
    key = session.scalars(query.limit(1)).first()
    run_id = run_of_key(key) if key else None
    if run_id is None:
        return None
    report = session.scalars(
        select(CampaignReport).where(
            CampaignReport.source == source, CampaignReport.wechat_msgid == wechat_msgid
        )
    ).first()
    if report is None:
        report = CampaignReport(run_id=run_id, source=source, wechat_msgid=wechat_msgid, at=now)
        session.add(report)
    report.status = status[:64]
    report.total, report.sent, report.filtered, report.errors = counts
    return report
