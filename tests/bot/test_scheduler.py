"""One scheduler leads at a time; when it dies another takes over; jobs run on the leader."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.scheduler import Leadership, build_scheduler
from models import Follower
from models.outbox import enqueue_notice
from tests.conftest import simulator_for


def wait_for(condition, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_one_leader_and_failover_after_the_lease(make_app):
    runtime = make_app(scheduler={"leader_lease_seconds": 3}).extensions["unionbot"]
    first, second = Leadership(runtime), Leadership(runtime)
    assert first.renew() is True
    assert second.renew() is False
    assert first.renew() is True  # renewing keeps it
    # The leader dies without releasing: the other waits out the lease, then leads.
    time.sleep(3.2)
    assert second.renew() is True
    assert first.renew() is False


def test_a_leader_that_stops_cleanly_hands_over_at_once(app):
    runtime = app.extensions["unionbot"]
    first, second = Leadership(runtime), Leadership(runtime)
    first.renew()
    first.release()
    assert second.renew() is True


def test_jobs_run_only_on_the_leader(app):
    runtime = app.extensions["unionbot"]
    leader, other, ran = Leadership(runtime), Leadership(runtime), []
    leader.renew()
    other.renew()
    other.guard(lambda: ran.append("other"))()
    leader.guard(lambda: ran.append("leader"))()
    assert ran == ["leader"]


def test_the_scheduler_drains_the_outbox(make_app, fake):
    app = make_app(outbox={"drain_interval_seconds": 0.2})
    runtime = app.extensions["unionbot"]
    simulator_for(app).send_text("o_worker", "你好")
    fake.set_user("o_worker")
    with runtime.session_factory.begin() as session:
        follower = session.scalars(select(Follower)).one()
        enqueue_notice(
            session,
            key="n1",
            kind="reply",
            follower_id=follower.id,
            openid="o_worker",
            text="调度器送出的通知",
        )
    schedulers = [build_scheduler(runtime) for _ in range(2)]
    for scheduler, _ in schedulers:
        scheduler.start()
    try:
        assert wait_for(lambda: fake.calls_to("message/custom/send", ok_only=True))
        time.sleep(0.5)
        assert len(fake.calls_to("message/custom/send")) == 1
        assert sum(leadership.is_leader for _, leadership in schedulers) == 1
    finally:
        for scheduler, leadership in schedulers:
            scheduler.shutdown(wait=False)
            leadership.release()
