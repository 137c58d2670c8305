"""Sends are at-least-once: a drainer that dies repeats at most what it had in flight, and
every send that may have reached WeChat twice is marked, not silent."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections import Counter

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.fake_wechat import Fault
from bot.outbox import Drainer
from bot.wechat.api import connect
from models import OutboxMessage
from models.base import utcnow
from models.outbox import count_uncertain
from tests.bot.outbox_support import (
    Clock,
    drainer_for,
    greet,
    notify,
    row,
    texts_sent,
    workers,
)

NOTICES = 100
KILLED_AFTER = 30  # sends: more than one drainer has in flight (16), fewer than a batch (50)


class Killed(BaseException):
    """The drainer's process is gone: no more calls, no more commits."""


def dying_drainer(app, killed: threading.Event) -> Drainer:
    """A drainer whose process is killed after ``KILLED_AFTER`` sends reached WeChat."""
    runtime = app.extensions["unionbot"]

    class DyingSession(Session):
        pass

    @event.listens_for(DyingSession, "before_commit")
    def dead(_session):
        if killed.is_set():
            raise Killed

    factory = sessionmaker(runtime.engine, expire_on_commit=False, class_=DyingSession)
    dying = dataclasses.replace(runtime, session_factory=factory)
    api = connect(runtime.settings, factory)
    send, sent, lock = api.send_text, [0], threading.Lock()

    def send_text(openid, text):
        if killed.is_set():
            raise Killed
        result = send(openid, text)  # in flight when the kill comes: reaches WeChat anyway
        with lock:
            sent[0] += 1
            if sent[0] >= KILLED_AFTER:
                killed.set()
        return result

    api.send_text = send_text
    return Drainer(dying, api)


def test_a_killed_drainer_duplicates_at_most_the_sends_it_had_in_flight(make_app, fake):
    app = make_app(outbox={"custom_window_budget": 2 * NOTICES, "custom_per_second": 10_000})
    fake.custom_window_budget = 2 * NOTICES  # duplicates count against it too
    follower = greet(app, fake)
    for n in range(NOTICES):
        notify(app, follower, text=f"通知{n}")
    fake.inject(Fault("message/custom/send", latency_ms=5, times=-1))  # sends overlap
    killed = threading.Event()
    doomed = dying_drainer(app, killed)
    with pytest.raises(Killed):
        doomed.drain_until_empty()
    doomed.pool.shutdown(wait=True)  # its last requests land; their results are lost
    sessions = app.extensions["unionbot"].session_factory
    with sessions() as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "sending"))
        assert 0 < len(waiting.all()) <= app.extensions["unionbot"].settings.outbox.send_concurrency
    with sessions.begin() as session:  # the lease runs out
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending")
            .values(lease_expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    drainer_for(app).drain_until_empty()

    arrived = Counter(texts_sent(fake))
    assert set(arrived) == {f"通知{n}" for n in range(NOTICES)}
    duplicates = sum(n - 1 for n in arrived.values())
    concurrency = app.extensions["unionbot"].settings.outbox.send_concurrency
    with sessions() as session:
        uncertain = count_uncertain(session)
        marked = session.scalars(select(OutboxMessage.payload).where(OutboxMessage.uncertain > 0))
        marked_texts = {p["text"] for p in marked}
    assert duplicates <= uncertain <= concurrency
    assert {text for text, n in arrived.items() if n > 1} <= marked_texts


def test_a_send_that_timed_out_is_marked_uncertain_and_counted(make_app, fake, caplog):
    app = make_app(wechat={"request_timeout_seconds": 0.2})
    notify(app, greet(app, fake))
    # WeChat takes the message but answers too late: the send times out, yet arrives.
    fake.inject(Fault("message/custom/send", latency_ms=400, times=1))
    clock = Clock()
    drainer = drainer_for(app, clock)
    drainer.drain_once()
    waiting = row(app)
    assert (waiting.status, waiting.uncertain) == ("pending", 1)
    assert "may have the message" in caplog.text
    clock.advance(60)
    drainer.drain_once()
    sent = row(app)
    assert (sent.status, sent.uncertain) == ("sent", 1)
    with app.extensions["unionbot"].session_factory() as session:
        assert count_uncertain(session) == 1


def test_a_refused_connection_is_retried_without_the_mark(make_app, fake):
    app = make_app(wechat={"api_base_url": "http://127.0.0.1:9/cgi-bin/"})  # nothing listens
    notify(app, greet(app, fake))
    drainer = drainer_for(app)
    drainer.api.store.get = lambda: "token"  # the send itself must fail, not the token fetch
    drainer.drain_once()
    assert (row(app).status, row(app).uncertain) == ("pending", 0)


def test_the_send_threads_share_a_pool_as_large_as_they_are(app, fake, caplog):
    for n, follower in enumerate(workers(app, fake, 48)):  # one each: 16 sends at once
        notify(app, follower, text=f"通知{n}")
    fake.inject(Fault("message/custom/send", latency_ms=50, times=-1))
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    drainer_for(app).drain_until_empty()
    assert len(texts_sent(fake)) == 48
    assert "Connection pool is full" not in caplog.text
