"""A run sent through the outbox to the fake WeChat over HTTP: one call per batch with its
clientmsgid, articles by media id, a retried call answered 45065 counted as sent, and
the run closed with its figures."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.campaign_runner import plan, quiet_hours, tick
from bot.wechat.api import ApiError
from models.base import utcnow
from models.campaign_control import run_now
from models.campaign_runs import DONE_RUN, CampaignRun, tally
from models.campaigns import APPROVED, find_campaign
from tests.bot.outbox_support import Clock, drainer_for
from tests.campaign_support import TEXT, add_followers, approved_campaign


def sent_now(app, code="test_jobs") -> int:
    """Staff press "run now" at the current time (the fake counts this month's sends)."""
    runtime = app.extensions["unionbot"]
    # Outside the quiet hours whatever the time of day: the quiet hours are 03:00-03:01.
    with runtime.session_factory.begin() as session:
        campaign = find_campaign(session, code)
        run_id = run_now(session, campaign, "staff:li", utcnow(), ("03:00", "03:01")).id
    plan(runtime, run_id)
    return run_id


def test_a_run_reaches_every_follower_once_in_batches(make_app, fake, db):
    app = make_app(campaigns={"mass_batch_size": 10})
    fans = add_followers(db, 23)
    approved_campaign(db)
    db.commit()
    run_id = sent_now(app)
    drainer_for(app).drain_until_empty()
    calls = fake.calls_to("message/mass/send", ok_only=True)
    assert sorted(c["json"]["clientmsgid"] for c in calls) == [
        f"unionbot-campaign-{run_id}-{n}" for n in range(3)
    ]
    assert {c["json"]["text"]["content"] for c in calls} == {TEXT}
    reached = sorted(o for c in calls for o in c["json"]["touser"])
    assert reached == sorted(f.openid for f in fans)
    tick(app.extensions["unionbot"], utcnow)
    db.commit()
    db.expire_all()
    assert db.get(CampaignRun, run_id).status == DONE_RUN
    assert tally(db, run_id) == {
        "queued": 0,
        "sent": 23,
        "held": 0,
        "failed": 0,
        "unreachable": 0,
    }
    assert find_campaign(db, "test_jobs").status == APPROVED  # never scheduled: can run again


def test_a_call_retried_after_a_lost_answer_is_not_sent_twice(app, fake, db):
    add_followers(db, 3)
    approved_campaign(db)
    db.commit()
    sent_now(app)
    # WeChat takes the first call but its answer never arrives (a read timeout).
    clock = Clock()
    drainer = drainer_for(app, clock)
    real_post = drainer.api.post
    lost = []

    def post(api, path, body):
        result = real_post(api, path, body)
        if not lost:
            lost.append(result)
            raise ApiError(None, "network error: ReadTimeout", uncertain=True)
        return result

    drainer.api.post = post
    drainer.drain_until_empty()
    clock.advance(3600)
    drainer.drain_until_empty()
    assert [c["errcode"] for c in fake.calls_to("message/mass/send")] == [0, 45065]
    assert all(sum(m.values()) == 1 for u in fake.users.values() for m in [u.mass_received])


def test_an_article_goes_by_its_media_id(app, fake, db):
    add_followers(db, 2)
    approved_campaign(db, media_id="MEDIA_ARTICLE_1", content="")
    db.commit()
    sent_now(app)
    drainer_for(app).drain_until_empty()
    [call] = fake.calls_to("message/mass/send", ok_only=True)
    assert call["json"]["msgtype"] == "mpnews"
    assert call["json"]["mpnews"] == {"media_id": "MEDIA_ARTICLE_1"}


def test_quiet_hours_hold_a_run_now_until_the_morning(app, db):
    runtime = app.extensions["unionbot"]
    add_followers(db, 2)
    approved_campaign(db)
    db.commit()
    night = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)  # 22:00 in Beijing
    with runtime.session_factory.begin() as session:
        run = run_now(
            session,
            find_campaign(session, "test_jobs"),
            "staff:li",
            night,
            quiet_hours(runtime.settings),
        )
        run_id = run.id
    assert plan(runtime, run_id, clock=lambda: night) == "planning"
    db.commit()
    assert db.scalars(select(CampaignRun)).one().not_before == dt.datetime(
        2026, 12, 2, 0, 0, tzinfo=dt.UTC
    )
