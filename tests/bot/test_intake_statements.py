"""What one message costs the database: the statements the webhook runs per delivery.

Counted, not timed, so the test means the same on a busy machine. The figures are the
README's ("The webhook"); a change that adds a read to every message shows up here.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, insert, select, update

import handlers
from models import Delivery, Follower
from models.base import utcnow
from models.database import serialised
from models.delivery import store_delivery
from models.follower import lock_follower
from models.intake_read import _statement

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """The SQL statements run meanwhile, transaction control left out."""
    engine = app.extensions["unionbot"].engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(CONTROL):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads(app) -> list[str]:
    """The intake's read: PostgreSQL takes the worker's row lock in a statement first."""
    postgresql = app.extensions["unionbot"].engine.dialect.name == "postgresql"
    return ["SELECT"] * (2 if postgresql else 1)


@pytest.fixture
def known(wechat):
    """A worker who has talked to the bot before (the catalogue is loaded too)."""
    wechat.send_text("o_known", "你好")
    return "o_known"


def test_a_greeting_is_the_read_and_one_insert(app, wechat, known):
    with statements(app) as seen:
        answer = wechat.send_text(known, "你好")
    assert "工会" in answer.text
    assert [s.split()[0] for s in seen] == [*reads(app), "INSERT"], seen
    assert "FROM followers" in seen[0] and seen[-1].startswith("INSERT INTO deliveries")


def test_a_retry_is_answered_from_the_read(app, wechat, known, db):
    body = wechat.text_xml(known, "高温补贴一个月多少钱", msg_id=777001)
    first = wechat.deliver(body)
    with statements(app) as seen:
        again = wechat.deliver(body)
    assert again.text == first.text and "高温" in again.text
    assert [s.split()[0] for s in seen] == reads(app), seen
    assert db.scalar(select(Delivery.status).where(Delivery.wechat_msg_id == 777001)) == "handled"


def test_a_new_worker_is_created_with_one_insert(app, wechat, db):
    with statements(app) as seen:
        answer = wechat.send_text("o_newcomer", "你好")
    assert "工会" in answer.text
    assert [s.split()[0] for s in seen] == ["SELECT", "INSERT", "INSERT"], seen
    assert "RETURNING" in seen[1]
    follower = db.scalars(select(Follower).where(Follower.openid == "o_newcomer")).one()
    assert follower.last_interaction_at is not None
    stored = db.scalars(select(Delivery).where(Delivery.follower_id == follower.id)).one()
    assert (stored.status, stored.content) == ("handled", "你好")


def test_a_message_within_the_minute_does_not_rewrite_the_interaction_time(app, wechat, known, db):
    before = db.scalar(select(Follower.last_interaction_at).where(Follower.openid == known))
    with statements(app) as seen:
        wechat.send_text(known, "你好")
    assert not any(s.startswith("UPDATE followers") for s in seen)
    db.expire_all()
    after = db.scalar(select(Follower.last_interaction_at).where(Follower.openid == known))
    assert after == before


def test_a_message_after_a_minute_records_the_interaction(app, wechat, known, db):
    stale = utcnow() - dt.timedelta(minutes=2)
    db.execute(update(Follower).where(Follower.openid == known).values(last_interaction_at=stale))
    db.commit()
    wechat.send_text(known, "你好")
    db.expire_all()
    after = db.scalar(select(Follower.last_interaction_at).where(Follower.openid == known))
    assert after > stale + dt.timedelta(seconds=90)


def test_a_copy_that_waited_for_the_lock_reads_what_the_first_committed(
    app, wechat, known, monkeypatch
):
    """The lock and the read are separate statements on PostgreSQL: a SELECT … FOR UPDATE
    that waits returns its joins as they were before the wait, and this copy ran the
    handler again instead of answering with the stored reply."""
    runtime = app.extensions["unionbot"]
    body = wechat.text_xml(known, "你好", msg_id=880001)
    ran = []
    route = handlers.route
    monkeypatch.setattr(handlers, "route", lambda m, s: ran.append(m.msg_id) or route(m, s))
    answers = []
    with serialised(runtime.session_factory) as first, first.begin():
        follower = lock_follower(first, known)  # the first copy holds the worker
        waiting = threading.Thread(target=lambda: answers.append(wechat.deliver(body)))
        waiting.start()
        time.sleep(0.5)
        assert waiting.is_alive()
        store_delivery(
            first,
            dedupe_key=f"m:{known}:880001",
            openid=known,
            follower_id=follower.id,
            msg_type="text",
            event=None,
            content="你好",
            payload={},
            wechat_msg_id=880001,
            sent_at=utcnow(),
            received_at=utcnow(),
            status="handled",
            replies=[{"type": "text", "content": "先到的那份回复"}],
            error=None,
        )
    waiting.join(timeout=30)
    assert answers[0].text == "先到的那份回复"
    assert ran == []


def test_a_returning_workers_read_skips_everyone_elses_deliveries(app, known, db):
    """The previous delivery is found by the worker's own index entries, however many
    messages others sent since (PostgreSQL once walked all of them backwards)."""
    runtime = app.extensions["unionbot"]
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's follower index already ends with the row id")
    now = utcnow()
    # 3,000 messages from 300 other workers since, and the statistics to go with them.
    others = db.scalars(
        insert(Follower).returning(Follower.id),
        [{"openid": f"o_other_{n}", "subscribed": True} for n in range(300)],
    ).all()
    db.execute(
        insert(Delivery),
        [
            {"dedupe_key": f"m:other:{n}", "openid": "o_other", "follower_id": others[n % 300]}
            | {"msg_type": "text", "payload": {}, "sent_at": now, "received_at": now}
            for n in range(3000)
        ],
    )
    db.commit()
    connection = db.connection()
    connection.exec_driver_sql("ANALYZE deliveries")
    statement = _statement().compile(dialect=runtime.engine.dialect)
    params = statement.construct_params({"openid": known, "key": "none"})
    explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}"
    plan = connection.exec_driver_sql(explain, params).scalar()
    db.rollback()

    def rows_read(node) -> int:
        per_loop = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        own = per_loop * node.get("Actual Loops", 1)
        own = own if node.get("Relation Name") == "deliveries" else 0
        return own + sum(rows_read(child) for child in node.get("Plans", []))

    assert rows_read(plan[0]["Plan"]) <= 3  # the previous delivery, and no stored copy
