"""The campaign tick under a controllable clock: send times fire at the right Beijing
time (weekday names, a lunar day), quiet hours wait for the morning, pause and resume,
and the scheduler runs the tick only on its leader."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.campaign_runner import tick
from models import OutboxMessage
from models.campaign_control import edit, pause, resume
from models.campaign_runs import PLANNING, CampaignRun, tally
from models.campaigns import RUNNING, SCHEDULED, find_campaign, schedule
from models.windows import SHANGHAI
from tests.campaign_support import add_followers, approved_campaign


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)


def scheduled(app, db, send_times, now, followers=3, **values):
    add_followers(db, followers, **values)
    campaign = approved_campaign(db, send_times=send_times, now=now)
    schedule(db, campaign, "staff:li", now)
    db.commit()
    db.expire_all()
    return campaign


def runs(db) -> list[CampaignRun]:
    db.commit()
    db.expire_all()
    return list(db.scalars(select(CampaignRun).order_by(CampaignRun.id)))


def queued(db) -> int:
    db.commit()
    db.expire_all()
    return len(db.scalars(select(OutboxMessage)).all())


def test_a_weekday_cron_fires_at_nine_beijing_time(app, db):
    runtime = app.extensions["unionbot"]
    # Monday 30 November 2026, 08:00 in Beijing; the campaign sends on Tuesdays at 09:00.
    scheduled(app, db, ["cron 0 9 * * tue"], local(2026, 11, 30, 8, 0))
    tick(runtime, lambda: local(2026, 12, 1, 8, 59))
    assert runs(db) == []
    tick(runtime, lambda: local(2026, 12, 1, 9, 0))
    [run] = runs(db)
    assert run.due_at == local(2026, 12, 1, 9, 0)
    assert queued(db) == 1  # one mass call for the three followers
    # The tick again, a minute later: nothing new.
    tick(runtime, lambda: local(2026, 12, 1, 9, 1))
    assert len(runs(db)) == 1 and queued(db) == 1
    db.expire_all()
    assert find_campaign(db, "test_jobs").next_send_at == local(2026, 12, 8, 9, 0)


def test_a_lunar_send_time_fires_on_its_day(app, db):
    runtime = app.extensions["unionbot"]
    # 除夕 2027 is 5 February; seven days before it, 10:00.
    scheduled(app, db, ["除夕-7 10:00"], local(2026, 12, 1, 9, 0))
    tick(runtime, lambda: local(2027, 1, 29, 9, 59))
    assert runs(db) == []
    tick(runtime, lambda: local(2027, 1, 29, 10, 0))
    assert [r.due_at for r in runs(db)] == [local(2027, 1, 29, 10, 0)]


def test_a_send_time_in_the_quiet_hours_waits_for_eight_in_the_morning(app, db):
    runtime = app.extensions["unionbot"]
    scheduled(app, db, ["cron 30 22 * * tue"], local(2026, 12, 1, 9, 0))
    tick(runtime, lambda: local(2026, 12, 1, 22, 30))
    [run] = runs(db)
    assert (run.status, run.not_before) == (PLANNING, local(2026, 12, 2, 8, 0))
    tick(runtime, lambda: local(2026, 12, 2, 7, 59))
    assert queued(db) == 0
    tick(runtime, lambda: local(2026, 12, 2, 8, 0))
    assert queued(db) == 1


def test_pause_holds_the_queued_rows_and_resume_sends_them(app, db):
    runtime = app.extensions["unionbot"]
    campaign = scheduled(
        app,
        db,
        ["cron 0 9 * * tue"],
        local(2026, 11, 30, 8, 0),
        followers=1,
        last_interaction_at=local(2026, 12, 1, 8, 0),  # inside the 48-hour window at 9:00
    )
    campaign_id = campaign.id
    tick(runtime, lambda: local(2026, 12, 1, 9, 0))  # one follower: a notice
    db.commit()
    db.expire_all()
    campaign = find_campaign(db, "test_jobs")
    assert campaign.status == RUNNING
    pause(db, campaign, "staff:li")
    db.commit()
    db.expire_all()
    row = db.scalars(select(OutboxMessage)).one()
    assert row.next_attempt_at.year == 9999
    [run] = runs(db)
    assert tally(db, run.id)["queued"] == 1
    resume(db, find_campaign(db, "test_jobs"), "staff:li", local(2026, 12, 1, 9, 5))
    db.commit()
    db.expire_all()
    db.expire_all()
    assert db.scalars(select(OutboxMessage)).one().next_attempt_at == local(2026, 12, 1, 9, 5)
    assert find_campaign(db, "test_jobs").id == campaign_id


def test_a_paused_campaign_is_not_planned_until_resumed(app, db):
    runtime = app.extensions["unionbot"]
    campaign = scheduled(app, db, ["cron 0 9 * * tue"], local(2026, 11, 30, 8, 0))
    pause(db, campaign, "staff:li")
    db.commit()
    db.expire_all()
    tick(runtime, lambda: local(2026, 12, 1, 9, 0))
    assert runs(db) == [] and queued(db) == 0
    resume(db, find_campaign(db, "test_jobs"), "staff:li", local(2026, 12, 1, 9, 10))
    db.commit()
    db.expire_all()
    assert find_campaign(db, "test_jobs").status == SCHEDULED
    tick(runtime, lambda: local(2026, 12, 1, 9, 10))
    assert len(runs(db)) == 1 and queued(db) == 1


def test_editing_a_paused_campaign_gives_up_the_old_texts_queued_rows(app, db):
    runtime = app.extensions["unionbot"]
    scheduled(app, db, ["cron 0 9 * * tue"], local(2026, 11, 30, 8, 0), followers=4)
    tick(runtime, lambda: local(2026, 12, 1, 9, 0))
    db.commit()
    db.expire_all()
    campaign = find_campaign(db, "test_jobs")
    pause(db, campaign, "staff:li")
    edit(db, campaign, {"content": "改过的内容"}, "staff:li", local(2026, 12, 1, 9, 5))
    db.commit()
    db.expire_all()
    [run] = runs(db)
    row = db.scalars(select(OutboxMessage)).one()
    assert (run.status, row.status, row.last_error) == (
        "cancelled",
        "failed",
        "活动已修改，旧内容不再发送",
    )
    assert find_campaign(db, "test_jobs").status == "draft"
