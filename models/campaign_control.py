"""Driving campaigns through time: runs created when send times come due, "run now",
pause, resume and cancel reaching the rows already queued, and runs that finish.

The scheduler calls :func:`fire_due` and :func:`finish_runs` every minute; the admin and
the CLI call the rest. Each works in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import campaigns as c
from models.campaign_runs import (
    CANCELLED_RUN,
    DONE_RUN,
    PLANNING,
    SENDING_RUN,
    CampaignRun,
    drop_rows,
    hold_rows,
    release_rows,
    start_run,
    still_sending,
    unfinished_runs,
)
from models.campaign_schedule import after_quiet_hours, next_send_time


def fire_due(session: Session, now: dt.datetime, quiet: tuple[str, str]) -> list[CampaignRun]:
    """A run for each scheduled campaign whose send time has come.

    A send time missed while no scheduler ran (a long outage) fires once, late, and
    the next one is counted from now, so a restart never sends a backlog of copies."""
    due = session.scalars(
        select(c.Campaign)
        .where(c.Campaign.status.in_((c.SCHEDULED, c.RUNNING)), c.Campaign.next_send_at <= now)
        .with_for_update()
    ).all()
    runs = []
    for campaign in due:
        when = campaign.next_send_at
        runs.append(start_run(session, campaign.id, when, after_quiet_hours(when, *quiet)))
        campaign.last_due_at = when
        campaign.next_send_at = next_send_time(campaign.send_times, max(when, now))
        campaign.status = c.RUNNING
    return runs


def run_now(
    session: Session, campaign: c.Campaign, actor: str, now: dt.datetime, quiet: tuple[str, str]
) -> CampaignRun:
    """A run outside the schedule (staff's "run now"), still after the quiet hours."""
    if campaign.status not in (c.APPROVED, c.SCHEDULED, c.RUNNING):
        raise c.CampaignError(f"活动{campaign.status_word}：审核通过、未暂停的活动才能发送。")
    run = start_run(
        session,
        campaign.id,
        now,
        after_quiet_hours(now, *quiet),
        trigger="manual",
        actor=actor,
    )
    campaign.status = c.RUNNING
    c.audit(session, actor, "campaign.run", campaign.code, f"run {run.id}")
    return run


def pause(session: Session, campaign: c.Campaign, actor: str) -> None:
    c.pause(session, campaign, actor)
    for run in unfinished_runs(session, campaign.id):
        hold_rows(session, run.id)


def resume(session: Session, campaign: c.Campaign, actor: str, now: dt.datetime) -> None:
    c.resume(session, campaign, actor)
    for run in unfinished_runs(session, campaign.id):
        release_rows(session, run.id, now)


def cancel(session: Session, campaign: c.Campaign, actor: str, now: dt.datetime) -> None:
    c.cancel(session, campaign, actor)
    _end_runs(session, campaign, now, "活动已取消")


def edit(session: Session, campaign: c.Campaign, values: dict, actor: str, now) -> list[str]:
    """Staff's changes; a paused run of the old text is given up, never sent later."""
    changed = c.edit(session, campaign, values, actor)
    if changed:
        _end_runs(session, campaign, now, "活动已修改，旧内容不再发送")
    return changed


def _end_runs(session: Session, campaign: c.Campaign, now: dt.datetime, reason: str) -> None:
    for run in unfinished_runs(session, campaign.id):
        drop_rows(session, run.id, reason)
        run.status, run.finished_at = CANCELLED_RUN, now


def finish_runs(session: Session, now: dt.datetime) -> list[CampaignRun]:
    """Runs whose every row has left (or failed) are done; so is a campaign with no
    send time left and nothing still running."""
    finished = []
    for run in session.scalars(select(CampaignRun).where(CampaignRun.status == SENDING_RUN)):
        if not still_sending(session, run.id):
            run.status, run.finished_at = DONE_RUN, now
            finished.append(run)
    for campaign in session.scalars(select(c.Campaign).where(c.Campaign.status == c.RUNNING)):
        if unfinished_runs(session, campaign.id):
            continue
        if campaign.next_send_at:
            campaign.status = c.SCHEDULED
        else:  # a "run now" of a campaign never scheduled stays approved for another
            campaign.status = c.DONE if campaign.last_due_at else c.APPROVED
    return finished


def runs_to_plan(session: Session, now: dt.datetime) -> list[int]:
    """Runs waiting to be planned whose time has come, oldest first."""
    return list(
        session.scalars(
            select(CampaignRun.id)
            .join(c.Campaign, c.Campaign.id == CampaignRun.campaign_id)
            .where(
                CampaignRun.status == PLANNING,
                CampaignRun.not_before <= now,
                c.Campaign.status.in_((c.APPROVED, c.SCHEDULED, c.RUNNING)),
            )
            .order_by(CampaignRun.id)
        )
    )
