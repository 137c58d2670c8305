"""Exactly-once intake: retries and concurrent copies never run a handler twice."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DataError, OperationalError, PendingRollbackError

import handlers
from bot import intake
from bot.intake import Handoff
from handlers import Inbound, Text, forms
from models import Delivery, Follower, OutboxMessage
from models.base import utcnow


@pytest.fixture
def counted(monkeypatch):
    """Replace the handler with a slow one that counts its runs."""
    runs = []
    lock = threading.Lock()

    def slow_handler(message, state):
        with lock:
            runs.append(message.text)
        time.sleep(0.3)  # long enough for every copy to arrive while the first runs
        return [Text(f"第{len(runs)}次处理：{message.text}")]

    monkeypatch.setattr(handlers, "route", lambda message, state: slow_handler)
    return runs


class TestRetries:
    def test_retry_gets_the_same_reply_and_is_stored_once(self, wechat, db):
        body = wechat.text_xml("o_worker", "帮助", msg_id=77001)
        first = wechat.deliver(body)
        second = wechat.deliver(body)  # WeChat's retry: same MsgId, new signature
        assert first.status == second.status == 200
        assert first.text == second.text != ""
        assert db.scalar(select(Delivery.id).where(Delivery.wechat_msg_id == 77001)) is not None
        assert db.query(Delivery).count() == 1

    def test_retry_does_not_run_the_handler_again(self, wechat, counted):
        body = wechat.text_xml("o_worker", "你好", msg_id=77002)
        replies = {wechat.deliver(body).text for _ in range(3)}
        assert counted == ["你好"]
        assert replies == {"第1次处理：你好"}

    def test_same_msgid_from_two_workers_is_two_messages(self, wechat, db):
        wechat.deliver(wechat.text_xml("o_alice", "帮助", msg_id=5))
        wechat.deliver(wechat.text_xml("o_bob", "帮助", msg_id=5))
        assert db.query(Delivery).count() == 2

    def test_events_in_one_second_with_different_keys_are_both_handled(self, wechat, db):
        now = int(time.time())
        for key in ("AID", "STAFF"):
            body = wechat.xml("o_worker", "event", created=now, Event="CLICK", EventKey=key)
            assert wechat.deliver(body).status == 200
        body = wechat.xml("o_worker", "event", created=now, Event="CLICK", EventKey="AID")
        wechat.deliver(body)  # the retry of the first
        assert db.query(Delivery).count() == 2


class TestConcurrentCopies:
    def test_four_concurrent_copies_run_the_handler_once(self, live_wechat, counted, db):
        body = live_wechat.text_xml("o_worker", "并发", msg_id=99001)
        barrier = threading.Barrier(4)

        def deliver():
            barrier.wait()
            return live_wechat.deliver(body)

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: deliver(), range(4)))
        assert [a.status for a in answers] == [200] * 4
        assert counted == ["并发"]
        assert {a.text for a in answers} == {"第1次处理：并发"}
        assert db.query(Delivery).filter_by(wechat_msg_id=99001).count() == 1

    def test_one_workers_messages_are_handled_one_at_a_time(self, live_wechat, monkeypatch):
        inside = []
        overlaps = []

        def exclusive(message, state):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(message.text)
            time.sleep(0.1)
            inside.pop()
            return [Text("ok")]

        monkeypatch.setattr(handlers, "route", lambda message, state: exclusive)
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda i: live_wechat.send_text("o_worker", f"m{i}"), range(6)))
        assert all(a.text == "ok" for a in answers)
        assert overlaps == []


class TestFailures:
    def test_handler_error_apologises_and_keeps_the_message(self, wechat, monkeypatch, db, caplog):
        def broken(message, state):
            state.follower.subscribe_scene = "should-be-rolled-back"
            raise RuntimeError("boom")

        monkeypatch.setattr(handlers, "route", lambda message, state: broken)
        answer = wechat.deliver(wechat.text_xml("o_worker", "救命", msg_id=31337))
        assert answer.status == 200
        assert "抱歉" in answer.text and "12351" in answer.text
        row = db.scalars(select(Delivery)).one()
        assert (row.status, row.content, row.wechat_msg_id) == ("failed", "救命", 31337)
        assert "RuntimeError: boom" in row.error
        assert db.scalars(select(Follower)).one().subscribe_scene is None
        assert "31337" in caplog.text

    def test_retry_of_a_failed_message_gets_the_same_apology(self, wechat, monkeypatch):
        calls = []

        def broken(message, state):
            calls.append(1)
            raise RuntimeError("boom")

        monkeypatch.setattr(handlers, "route", lambda message, state: broken)
        body = wechat.text_xml("o_worker", "救命", msg_id=31338)
        assert wechat.deliver(body).text == wechat.deliver(body).text
        assert calls == [1]


class TestTranscript:
    def test_every_message_is_stored_with_follower_type_content_and_time(self, wechat, db):
        before = time.time()
        wechat.send_text("o_worker", "你好")
        wechat.deliver(
            wechat.xml(
                "o_worker",
                "image",
                PicUrl="http://x/p.jpg",
                MediaId="MEDIA1",
                MsgId=wechat.next_msg_id(),
            )
        )
        rows = db.scalars(select(Delivery).order_by(Delivery.id)).all()
        follower = db.scalars(select(Follower)).one()
        assert [(r.msg_type, r.content) for r in rows] == [("text", "你好"), ("image", None)]
        assert rows[1].payload["MediaId"] == "MEDIA1"
        assert all(r.follower_id == follower.id for r in rows)
        assert follower.last_interaction_at.timestamp() >= before - 1

    def test_automatic_location_reports_do_not_count_as_interaction(self, wechat, db):
        wechat.send_event("o_worker", "LOCATION", Latitude=33.7, Longitude=120.2, Precision=50)
        assert db.scalars(select(Follower)).one().last_interaction_at is None


def _lock_timeout() -> OperationalError:
    """What the driver raises when a lock or statement timeout ends a query."""
    return OperationalError("UPDATE conversations …", {}, Exception("lock timeout"))


class TestDatabaseErrors:
    """A database error is the database's trouble, not the message's: nothing is kept,
    WeChat is told to retry (503), and the retry does the work."""

    def test_a_lock_timeout_in_a_form_keeps_the_workers_answer(self, wechat, monkeypatch, db):
        wechat.send_text("o_worker", "帮扶")
        question = wechat.send_text("o_worker", "1").text
        assert "同意" in question  # the privacy notice asks for consent first
        failures = [_lock_timeout()]
        real_save = forms.save_conversation

        def flaky_save(*args, **kwargs):
            if failures:
                raise failures.pop()
            return real_save(*args, **kwargs)

        monkeypatch.setattr(forms, "save_conversation", flaky_save)
        body = wechat.text_xml("o_worker", "同意。", msg_id=42001)
        first = wechat.deliver(body)
        assert first.status == 503
        assert db.scalar(select(Delivery.id).where(Delivery.wechat_msg_id == 42001)) is None
        db.rollback()  # end this read's snapshot
        retry = wechat.deliver(body)  # WeChat retries the same MsgId
        assert retry.status == 200
        assert "姓名" in retry.text and "抱歉" not in retry.text
        stored = db.scalars(select(Delivery).where(Delivery.wechat_msg_id == 42001)).one()
        assert stored.status == "handled"

    def test_a_connection_lost_inside_the_handler_is_503_not_500(self, wechat, monkeypatch, db):
        def cut_off(message, state):
            raise PendingRollbackError("connection was closed; roll back first")

        monkeypatch.setattr(handlers, "route", lambda message, state: cut_off)
        answer = wechat.deliver(wechat.text_xml("o_worker", "你好", msg_id=42002))
        assert answer.status == 503
        assert db.scalar(select(Delivery.id)) is None

    def test_our_own_errors_are_still_recorded_as_failed(self, wechat, monkeypatch, db):
        def data_bug(message, state):
            raise DataError("INSERT …", {}, Exception("value too long"))  # our code's bug

        monkeypatch.setattr(handlers, "route", lambda message, state: data_bug)
        answer = wechat.deliver(wechat.text_xml("o_worker", "你好", msg_id=42003))
        assert answer.status == 200 and "抱歉" in answer.text
        assert db.scalars(select(Delivery)).one().status == "failed"

    def test_a_deferred_delivery_is_tried_again_in_place(self, app, monkeypatch):
        """Once the webhook has answered "success", no retry comes from WeChat."""
        runtime = app.extensions["unionbot"]
        handoff = Handoff()
        assert handoff.abandon()  # the budget ran out before the handler finished
        failures = [_lock_timeout()]

        def handle(message, state):
            if failures:
                raise failures.pop()
            return [Text("好的")]

        monkeypatch.setattr(intake, "DEFERRED_BACKOFF_SECONDS", 0)
        inbound = Inbound(openid="o_worker", kind="text", sent_at=utcnow(), text="你好", msg_id=9)
        replies = intake.receive(
            runtime.session_factory,
            runtime.settings,
            runtime.flows,
            inbound,
            "m:o_worker:9",
            handle,
            handoff,
        )
        assert replies == []  # it went to the outbox instead
        with runtime.session_factory() as session:
            queued = session.scalars(select(OutboxMessage)).one()
            assert queued.payload["text"] == "好的"

    def test_a_real_lock_timeout_on_postgresql(self, app, wechat):
        """Another transaction holds the worker's draft row; the handler's write times out."""
        runtime = app.extensions["unionbot"]
        if runtime.engine.dialect.name != "postgresql":
            pytest.skip("lock_timeout is PostgreSQL's")
        wechat.send_text("o_worker", "帮扶")
        assert "同意" in wechat.send_text("o_worker", "1").text
        event.listen(runtime.engine, "connect", _short_lock_timeout)
        runtime.engine.dispose()  # new connections, with the timeout
        body = wechat.text_xml("o_worker", "同意", msg_id=42004)
        try:
            with runtime.engine.connect() as holder:
                holder.execute(text("SELECT 1 FROM conversations FOR UPDATE"))
                assert wechat.deliver(body).status == 503
                holder.rollback()
            retry = wechat.deliver(body)
        finally:
            event.remove(runtime.engine, "connect", _short_lock_timeout)
            runtime.engine.dispose()
        assert retry.status == 200 and "姓名" in retry.text


def _short_lock_timeout(dbapi_connection, _record) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    dbapi_connection.commit()
