"""退订 / 订阅 in the chat: campaign messages stop and start again; a worker's own
notices still arrive."""

from __future__ import annotations

from sqlalchemy import select

from bot.campaign_runner import plan, quiet_hours
from models import Follower, OutboxMessage
from models.audience import CampaignOptOut
from models.campaign_control import run_now
from models.campaigns import find_campaign
from models.outbox import enqueue_notice
from tests.campaign_support import MORNING, add_followers, approved_campaign
from tests.helpers import Worker


def campaign_recipients(app, day: int) -> list[str]:
    """Who a run of the test campaign, started on ``day`` of March, would reach."""
    runtime = app.extensions["unionbot"]
    with runtime.session_factory.begin() as session:
        campaign = find_campaign(session, "test_jobs")
        at = MORNING.replace(day=day)
        run_id = run_now(session, campaign, "staff:li", at, quiet_hours(runtime.settings)).id
    plan(runtime, run_id, clock=lambda: at)
    with runtime.session_factory() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like(f"campaign:{run_id}:%"))
        )
        return sorted(o for row in rows for o in row.payload.get("openids", [row.recipient]))


def test_opting_out_and_in_again_in_the_chat(app, wechat, db, fake, drainer):
    add_followers(db, 2)
    approved_campaign(db)
    db.commit()
    worker = Worker(wechat, "o_wang")
    worker.say("你好")

    reply = worker.say("退订")
    assert "已为您退订工会活动消息" in reply
    assert "您自己的帮扶申请、竞赛报名的办理通知仍会照常发送" in reply
    assert "回复“订阅”" in reply
    choice = db.scalars(select(CampaignOptOut)).one()
    assert choice.opted_out and choice.changed_at is not None
    db.commit()
    assert campaign_recipients(app, 11) == ["o_fan_00000", "o_fan_00001"]

    # Their own notices still go out.
    fake.set_user("o_wang")
    with app.extensions["unionbot"].session_factory.begin() as session:
        wang = session.scalars(select(Follower).where(Follower.openid == "o_wang")).one()
        enqueue_notice(
            session,
            key="aid:1",
            kind="aid.decision",
            follower_id=wang.id,
            openid="o_wang",
            text="您的申请已受理",
        )
    drainer.drain_until_empty()
    assert [c["json"]["touser"] for c in fake.calls_to("message/custom/send", ok_only=True)] == [
        "o_wang"
    ]

    reply = worker.say("订阅")
    assert "已为您恢复接收工会活动消息" in reply
    db.expire_all()
    assert not db.scalars(select(CampaignOptOut)).one().opted_out
    assert "o_wang" in campaign_recipients(app, 12)
