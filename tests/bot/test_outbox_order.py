"""A worker's notices reach WeChat in the order they were queued; other workers' go at once."""

from __future__ import annotations

import datetime as dt
import time
from itertools import pairwise

from sqlalchemy import update

from bot.fake_wechat import Fault
from bot.outbox import Drainer
from models import OutboxMessage
from models.base import utcnow
from tests.bot.outbox_support import Clock, drainer_for, greet, notify, row, texts_sent, workers

LATENCY = 0.25  # seconds WeChat takes to answer each call


def arrived_for(fake, openid: str) -> list[dict]:
    return [c for c in fake.calls_to("message/custom/send") if c["json"]["touser"] == openid]


def test_one_workers_notices_arrive_in_order_while_other_workers_go_in_parallel(make_app, fake):
    app = make_app()
    staff_decisions = ["已收到申请", "已进入审核", "需要补充"]
    team = workers(app, fake, 4)
    for text in staff_decisions:  # queued interleaved, as decisions about several workers are
        for worker in team:
            notify(app, worker, text=text, key=f"{worker.openid}:{text}")
    fake.inject(Fault("message/custom/send", latency_ms=int(LATENCY * 1000), times=-1))

    started = time.monotonic()
    assert drainer_for(app).drain_once() == 12
    elapsed = time.monotonic() - started

    for worker in team:
        calls = arrived_for(fake, worker.openid)
        assert [c["json"]["text"]["content"] for c in calls] == staff_decisions
        # Each left only after WeChat answered the one before: none could overtake it.
        gaps = [later["at"] - earlier["at"] for earlier, later in pairwise(calls)]
        assert min(gaps) >= LATENCY * 0.95
    # Four workers in parallel: three calls' time, not twelve (the margin is for a loaded
    # machine; one worker at a time would need all twelve).
    assert elapsed < 12 * LATENCY * 0.8


def test_a_notice_to_be_retried_holds_back_the_workers_later_ones_until_it_is_sent(app, fake):
    worker = greet(app, fake)
    notify(app, worker, text="已进入审核", key="review")
    notify(app, worker, text="需要补充", key="more")
    fake.inject(Fault("message/custom/send", errcode=-1))  # WeChat is busy, once
    clock = Clock()
    clock.advance(30)  # later than every row was queued (they are all due)
    drainer = drainer_for(app, clock)

    # The first is refused and backs off; the second is not sent before it.
    assert drainer.drain_once() == 2
    assert [c["errcode"] for c in fake.calls_to("message/custom/send")] == [-1]
    first, second = row(app, idempotency_key="review"), row(app, idempotency_key="more")
    assert (first.status, first.attempts) == ("pending", 1)
    assert (second.status, second.attempts) == ("pending", 0)  # not charged a try

    # A notice queued while the first backs off is not sent before it either.
    notify(app, worker, text="材料已收到", key="received")
    assert drainer.drain_once() == 0
    assert len(fake.calls_to("message/custom/send")) == 1

    clock.advance(3)  # the first is due again: all three leave, in order
    assert drainer.drain_until_empty() == 3
    assert texts_sent(fake) == ["已进入审核", "需要补充", "材料已收到"]


def test_a_notice_another_drainer_is_sending_holds_back_the_next_until_its_lease_ends(
    app, fake, api
):
    runtime = app.extensions["unionbot"]
    worker = greet(app, fake)
    notify(app, worker, text="已进入审核", key="review")
    assert len(Drainer(runtime, api).claim()) == 1  # ... and that drainer's process dies
    notify(app, worker, text="需要补充", key="more")
    survivor = drainer_for(app)
    assert survivor.drain_once() == 0
    with runtime.session_factory.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending")
            .values(lease_expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    assert survivor.drain_once() == 2
    assert texts_sent(fake) == ["已进入审核", "需要补充"]


def test_a_notice_given_up_at_its_deadline_holds_back_the_next_no_longer(make_app, fake):
    app = make_app(outbox={"deadline_hours_by_kind": {"aid.decision": 1}, "breaker_failures": 0})
    worker = greet(app, fake)
    notify(app, worker, text="审核结果", key="decision")  # worth sending for an hour
    notify(app, worker, text="请补充材料", key="status", kind="aid_status")  # for a week
    fake.inject(Fault("message/custom/send", errcode=-1, times=-1))
    clock = Clock()
    drainer = drainer_for(app, clock)
    while row(app, idempotency_key="decision").status == "pending" and clock.elapsed < 7200:
        drainer.drain_once()
        clock.advance(60)
    assert row(app, idempotency_key="decision").status == "failed"
    texts = [c["json"]["text"]["content"] for c in fake.calls_to("message/custom/send")]
    tried_next = texts.index("请补充材料")  # only once the first was given up
    assert tried_next > 8 and set(texts[:tried_next]) == {"审核结果"}
    assert "审核结果" not in texts[tried_next:]

    fake.clear_faults()
    clock.advance(60)
    drainer.drain_once()
    assert texts_sent(fake) == ["请补充材料"]
