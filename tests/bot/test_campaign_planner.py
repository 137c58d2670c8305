"""Planning a run: who is in the audience, which channel each gets within WeChat's quotas,
and that planning again (after a crash) queues nobody twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.campaign_runner import limits, plan, quiet_hours
from models import AidApplication, CompetitionEntry, OutboxMessage, ReminderWish
from models.audience import set_opt_out
from models.campaign_control import run_now
from models.campaign_preview import preview
from models.campaign_runs import REFUSED, SENDING_RUN, CampaignRun, tally
from models.campaigns import find_campaign
from models.subscription import record_choice
from tests.campaign_support import MORNING, add_followers, approved_campaign


def start(app, code: str, at=MORNING) -> int:
    """Staff press "run now" on ``code``; the run is planned to its end."""
    runtime = app.extensions["unionbot"]
    with runtime.session_factory.begin() as session:
        run = run_now(
            session, find_campaign(session, code), "staff:li", at, quiet_hours(runtime.settings)
        )
        run_id = run.id
    plan(runtime, run_id, clock=lambda: at)
    return run_id


def outbox(db) -> list[OutboxMessage]:
    db.commit()  # a new read transaction: see what the planner committed since
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def small_batches(make_app):
    return make_app(campaigns={"mass_batch_size": 10, "plan_batch_size": 7})


class TestMass:
    def test_mass_calls_of_at_most_the_batch_size_with_one_clientmsgid_each(
        self, small_batches, db
    ):
        add_followers(db, 23)
        approved_campaign(db)
        db.commit()
        run_id = start(small_batches, "test_jobs")
        rows = outbox(db)
        assert [len(r.payload["openids"]) for r in rows] == [10, 10, 3]
        assert [r.payload["client_msg_id"] for r in rows] == [
            f"unionbot-campaign-{run_id}-{n}" for n in range(3)
        ]
        everyone = [o for r in rows for o in r.payload["openids"]]
        assert sorted(everyone) == [f"o_fan_{n:05d}" for n in range(23)]
        assert db.get(CampaignRun, run_id).status == SENDING_RUN
        assert tally(db, run_id) == {
            "queued": 23,
            "sent": 0,
            "held": 0,
            "failed": 0,
            "unreachable": 0,
        }

    def test_planning_again_after_a_crash_queues_nobody_twice(self, small_batches, db):
        add_followers(db, 23)
        approved_campaign(db)
        db.commit()
        run_id = start(small_batches, "test_jobs")
        # The planner died before it recorded its progress: it starts over.
        run = db.get(CampaignRun, run_id)
        run.status, run.cursor, run.batch_no, run.batch_fill = "planning", 0, 0, 0
        db.commit()
        plan(small_batches.extensions["unionbot"], run_id, clock=lambda: MORNING)
        assert [len(r.payload["openids"]) for r in outbox(db)] == [10, 10, 3]

    def test_followers_who_had_four_mass_messages_this_month_get_a_notice(self, small_batches, db):
        # They wrote in an hour before: inside the 48-hour window, a notice can reach them.
        fans = add_followers(db, 5, last_interaction_at=MORNING - dt.timedelta(hours=1))
        approved_campaign(db)
        db.commit()
        for hour in range(4):
            start(small_batches, "test_jobs", at=MORNING + dt.timedelta(minutes=hour))
        before = len(outbox(db))
        start(small_batches, "test_jobs", at=MORNING + dt.timedelta(hours=1))
        new = outbox(db)[before:]
        assert {r.channel for r in new} == {"notice"}
        assert sorted(r.recipient for r in new) == sorted(f.openid for f in fans)

    def test_one_follower_left_alone_in_a_batch_gets_a_notice_if_one_reaches_them(
        self, small_batches, db
    ):
        fans = add_followers(db, 11)
        fans[10].last_interaction_at = MORNING - dt.timedelta(hours=1)
        approved_campaign(db)
        db.commit()
        start(small_batches, "test_jobs")
        rows = outbox(db)
        assert [(r.channel, r.recipient) for r in rows][-1] == ("notice", "o_fan_00010")
        assert len(rows[0].payload["openids"]) == 10

    def test_one_follower_left_alone_and_out_of_reach_is_counted_not_sent(self, small_batches, db):
        add_followers(db, 11)
        approved_campaign(db)
        db.commit()
        run_id = start(small_batches, "test_jobs")
        assert [r.channel for r in outbox(db)] == ["mass"]
        assert tally(db, run_id)["unreachable"] == 1


class TestRefusal:
    def test_a_subscription_account_may_mass_send_once_a_day(self, make_app, db):
        app = make_app(wechat={"account_type": "subscription"})
        add_followers(db, 3)
        approved_campaign(db, "first")
        approved_campaign(db, "second")
        db.commit()
        start(app, "first")
        second = start(app, "second", at=MORNING + dt.timedelta(hours=2))
        run = db.get(CampaignRun, second)
        assert run.status == REFUSED
        assert "订阅号每天只能群发1次，今天还剩0次" in run.reason
        assert len(outbox(db)) == 1  # the first campaign's call only


class TestAudience:
    def test_the_unsubscribed_unreachable_and_opted_out_are_never_included(self, app, db):
        fans = add_followers(db, 5)
        fans[0].subscribed = False
        fans[1].unreachable_reason = "43004"
        set_opt_out(db, fans[2].id, True, MORNING)
        approved_campaign(db, audience={"rule": "all"})
        db.commit()
        start(app, "test_jobs")
        [row] = outbox(db)
        assert row.payload["openids"] == [fans[3].openid, fans[4].openid]

    @pytest.mark.parametrize(
        "rule",
        [
            {"rule": "tag", "tag_id": 101},
            {"rule": "applicants", "programme": "jinqiu", "season": 2025},
            {"rule": "entrants", "competition": "welder"},
            {"rule": "active", "days": 30},
            {"rule": "wishes", "programme": "jinqiu"},
        ],
    )
    def test_each_rule_picks_its_followers(self, app, db, fake, rule):
        fans = add_followers(db, 4)
        chosen = fans[1:3]
        for fan in fans:
            fan.last_interaction_at = MORNING - dt.timedelta(days=90)
        for n, fan in enumerate(chosen):
            fan.last_interaction_at = MORNING - dt.timedelta(days=3)
            db.add(ReminderWish(follower_id=fan.id, programme_code="jinqiu", created_at=MORNING))
            db.add(application(fan, n, season=2025))
            db.add(entry(fan, n))
        db.add(application(fans[3], 9, season=2026))  # another season
        # Tags are WeChat's: the run reads the tag's followers from it when it starts.
        fake.tags[101] = "环卫工人"
        fake.tag_members[101] = {fan.openid for fan in chosen} | {"o_not_a_follower_here"}
        approved_campaign(db, audience=rule)
        db.commit()
        start(app, "test_jobs")
        [row] = outbox(db)
        assert row.payload["openids"] == [fan.openid for fan in chosen]
        if rule["rule"] == "wishes":
            db.expire_all()
            wishes = db.scalars(select(ReminderWish)).all()
            assert all(w.notified_at == MORNING for w in wishes)

    def test_the_preview_counts_masks_and_plans_channels(self, app, db):
        fans = add_followers(db, 6)
        fans[0].last_interaction_at = MORNING - dt.timedelta(hours=3)
        campaign = approved_campaign(db, channel="notice")
        db.commit()
        shown = preview(db, campaign, limits(app.extensions["unionbot"].settings), MORNING)
        assert (shown.audience, shown.notice_window, shown.notice_other) == (6, 1, 0)
        assert shown.unreachable == 5
        assert shown.sample[0] == "o_fa****0000"
        assert shown.refusal is None
        assert outbox(db) == []  # a preview writes nothing

    def test_notices_go_only_where_a_channel_can_carry_them(self, make_app, db):
        """In the 48-hour window, or with a subscription notice accepted; never held for
        a worker's next message, which might come weeks later."""
        app = make_app(outbox={"subscribe_templates": {"campaign": "SUB_NOTICE"}})
        fans = add_followers(db, 4)
        fans[0].last_interaction_at = MORNING - dt.timedelta(hours=3)
        record_choice(db, fans[1].id, "SUB_NOTICE", "accept", None, MORNING)
        record_choice(db, fans[2].id, "SUB_NOTICE", "reject", None, MORNING)
        approved_campaign(db, channel="notice")
        db.commit()
        run_id = start(app, "test_jobs")
        assert sorted(r.recipient for r in outbox(db)) == [fans[0].openid, fans[1].openid]
        assert tally(db, run_id)["unreachable"] == 2

    def test_a_campaign_template_reaches_everyone_on_a_service_account(self, make_app, db):
        app = make_app(outbox={"templates": {"campaign": "TPL_NOTICE"}})
        add_followers(db, 3)
        campaign = approved_campaign(db, channel="notice")
        db.commit()
        shown = preview(db, campaign, limits(app.extensions["unionbot"].settings), MORNING)
        assert (shown.notice_other, shown.unreachable) == (3, 0)
        start(app, "test_jobs")
        assert len(outbox(db)) == 3


def application(fan, n: int, season: int) -> AidApplication:
    return AidApplication(
        reference=f"SY-{season}-{fan.id:06d}",
        programme_code="jinqiu",
        follower_id=fan.id,
        season=season,
        answers={},
        id_hash=f"h{fan.id}",
        submitted_at=MORNING,
        updated_at=MORNING,
    )


def entry(fan, n: int) -> CompetitionEntry:
    return CompetitionEntry(
        competition_code="welder",
        follower_id=fan.id,
        season=2026,
        status="confirmed",
        answers={},
        id_hash=f"e{fan.id}",
        created_at=MORNING,
        updated_at=MORNING,
    )
