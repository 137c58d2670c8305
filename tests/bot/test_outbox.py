"""The outbox reaches the fake WeChat exactly once, whatever errors and crashes happen."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bot.fake_wechat import Fault
from bot.outbox import Drainer
from bot.rate_limits import Permits
from models import Alert, Follower, MediaFile, OutboxMessage, RateWindow, SubscribeConsent
from models.base import utcnow
from models.outbox import MASS, MEDIA, enqueue, enqueue_notice
from tests.bot.outbox_support import Clock, drainer_for, greet, notify, row, texts_sent
from tests.conftest import simulator_for


@pytest.fixture
def worker(app, fake) -> Follower:
    return greet(app, fake)


def run_drainers(drainers, done, timeout=15.0) -> None:
    """Run each drainer in its own thread, as separate processes would, until ``done()``."""
    deadline = time.monotonic() + timeout

    def loop(drainer):
        while not done() and time.monotonic() < deadline:
            if not drainer.drain_once():
                time.sleep(0.02)

    threads = [threading.Thread(target=loop, args=(d,)) for d in drainers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def make_due(app):
    with app.extensions["unionbot"].session_factory.begin() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))


class TestDelivery:
    def test_notice_in_the_window_goes_as_customer_service_message_once(
        self, app, worker, fake, drainer
    ):
        notify(app, worker)
        assert drainer.drain_until_empty() == 1
        assert drainer.drain_until_empty() == 0
        assert texts_sent(fake) == ["您的申请已受理"]
        sent = row(app)
        assert (sent.status, sent.sent_via, sent.attempts) == ("sent", "custom", 1)

    def test_the_same_key_is_queued_once(self, app, worker):
        assert notify(app, worker, key="decision:1") is True
        assert notify(app, worker, key="decision:1") is False
        with app.extensions["unionbot"].session_factory() as session:
            assert session.query(OutboxMessage).count() == 1

    def test_notice_and_its_cause_commit_together_or_not_at_all(self, app, worker):
        sessions = app.extensions["unionbot"].session_factory
        with pytest.raises(RuntimeError), sessions.begin() as session:
            enqueue_notice(
                session,
                key="x",
                kind="k",
                follower_id=worker.id,
                openid=worker.openid,
                text="不会发出",
            )
            raise RuntimeError("the decision failed")
        with app.extensions["unionbot"].session_factory() as session:
            assert session.query(OutboxMessage).count() == 0


class TestErrors:
    def test_busy_backs_off_then_succeeds(self, app, worker, fake, drainer):
        fake.inject(Fault("message/custom/send", errcode=45009, times=2))
        notify(app, worker)
        before = utcnow()
        drainer.drain_once()
        waiting = row(app)
        assert (waiting.status, waiting.last_error_code) == ("pending", 45009)
        assert waiting.next_attempt_at >= before + dt.timedelta(seconds=1.9)
        for _ in range(2):
            make_due(app)
            drainer.drain_once()
        assert row(app).status == "sent"
        assert [c["errcode"] for c in fake.calls_to("message/custom/send")] == [45009, 45009, 0]

    @pytest.mark.parametrize("code", [-1, 45011])
    def test_retries_go_on_until_the_deadline_then_end_in_failed_with_the_reason(
        self, make_app, fake, code
    ):
        # Was: max_attempts tries, then failed. Now the notice's deadline decides.
        app = make_app(
            outbox={"deadline_hours_by_kind": {"aid.decision": 1}, "breaker_failures": 0}
        )
        notify(app, greet(app, fake))
        fake.inject(Fault("message/custom/send", errcode=code, times=-1))
        clock = Clock()
        drainer = drainer_for(app, clock)
        while row(app).status == "pending" and clock.elapsed < 2 * 3600:
            drainer.drain_once()
            if clock.elapsed < 50 * 60:
                assert row(app).status == "pending"  # still worth trying
            clock.advance(60)
        failed = row(app)
        assert (failed.status, failed.last_error_code) == ("failed", code)
        assert "gave up at its deadline" in failed.last_error
        assert failed.attempts == len(fake.calls_to("message/custom/send")) > 8

    @pytest.mark.parametrize(("code", "reason"), [(43004, "未关注"), (40003, "openid 无效")])
    def test_unreachable_worker_is_dead_and_marked(self, app, worker, fake, drainer, code, reason):
        fake.inject(Fault("message/custom/send", errcode=code))
        notify(app, worker)
        drainer.drain_once()
        dead = row(app)
        assert dead.status == "dead" and reason in dead.last_error
        with app.extensions["unionbot"].session_factory() as session:
            assert reason in session.get(Follower, worker.id).unreachable_reason
        notify(app, worker, text="第二条")
        drainer.drain_once()  # known unreachable: no second call to WeChat
        assert len(fake.calls_to("message/custom/send")) == 1

    def test_network_outage_is_retried(self, app, worker, fake, drainer):
        fake.inject(Fault("message/custom/send", http_status=502))
        notify(app, worker)
        drainer.drain_once()
        assert row(app).status == "pending"
        make_due(app)
        drainer.drain_once()
        assert row(app).status == "sent"

    def test_invalid_request_is_dead_not_retried(self, app, worker, fake, drainer):
        fake.inject(Fault("message/custom/send", errcode=47001))
        notify(app, worker)
        drainer.drain_once()
        assert (row(app).status, row(app).last_error_code) == ("dead", 47001)

    def test_token_outage_waits_with_an_alert_then_recovers(self, app, worker, fake, drainer):
        fake.inject(Fault("stable_token", errcode=-1, times=3))
        notify(app, worker)
        drainer.drain_once()
        waiting = row(app)
        assert (waiting.status, waiting.attempts) == ("pending", 0)
        with app.extensions["unionbot"].session_factory() as session:
            assert "access_token" in session.get(Alert, "access_token").message
        make_due(app)
        drainer.drain_once()
        assert row(app).status == "sent"
        with app.extensions["unionbot"].session_factory() as session:
            assert session.get(Alert, "access_token").resolved_at is not None


class TestChannelPolicy:
    def test_closed_window_falls_back_to_template(self, make_app, fake):
        app = make_app(outbox={"templates": {"aid.decision": "TPL_NOTICE"}})
        follower = _worker_with_closed_window(app, fake)
        notify(app, follower)
        drainer_for(app).drain_once()
        sent = row(app)
        assert (sent.status, sent.sent_via) == ("sent", "template")
        assert not fake.calls_to("message/custom/send")
        call = fake.calls_to("message/template/send")[0]["json"]
        assert call["touser"] == "o_late" and call["template_id"] == "TPL_NOTICE"

    def test_window_refused_by_wechat_falls_back_to_template(self, make_app, fake):
        app = make_app(outbox={"templates": {"aid.decision": "TPL_NOTICE"}})
        follower = greet(app, fake)
        fake.set_user("o_worker", interacted_ago=49 * 3600)  # WeChat knows better than we do
        notify(app, follower)
        drainer_for(app).drain_once()
        assert [c["errcode"] for c in fake.calls_to("message/custom/send")] == [45015]
        assert (row(app).status, row(app).sent_via) == ("sent", "template")

    def test_without_template_the_notice_waits_for_the_next_message(
        self, app, fake, drainer, wechat
    ):
        follower = _worker_with_closed_window(app, fake)
        notify(app, follower, text="您的帮扶申请已通过")
        drainer.drain_once()
        assert row(app).status == "held"
        answer = wechat.send_text("o_late", "帮助")
        assert "您的帮扶申请已通过" in answer.text and "回复数字或关键词" in answer.text
        delivered = row(app)
        assert (delivered.status, delivered.sent_via) == ("sent", "passive")
        assert "您的帮扶申请已通过" not in wechat.send_text("o_late", "帮助").text

    def test_held_notices_wait_for_a_delivery_the_worker_sees(self, app, fake, drainer, wechat):
        follower = _worker_with_closed_window(app, fake)
        notify(app, follower, text="您的帮扶申请已通过")
        drainer.drain_once()
        wechat.send_event("o_late", "VIEW", "https://example.org/page")
        wechat.send_event("o_late", "LOCATION", Latitude=33.7, Longitude=120.2)
        assert row(app).status == "held"
        assert "您的帮扶申请已通过" in wechat.send_event("o_late", "CLICK", "HELP").text
        assert row(app).status == "sent"

    def test_budget_of_the_window_is_respected(self, make_app, fake):
        app = make_app(outbox={"custom_window_budget": 2})
        follower = greet(app, fake)
        for n in range(3):
            notify(app, follower, text=f"通知{n}")
        drainer_for(app).drain_once()
        assert texts_sent(fake) == ["通知0", "通知1"]  # in order: the budget goes to the first
        assert row(app, status="held").payload["text"] == "通知2"


def _worker_with_closed_window(app, fake) -> Follower:
    follower = greet(app, fake, "o_late")
    with app.extensions["unionbot"].session_factory.begin() as session:
        session.get(Follower, follower.id).last_interaction_at = utcnow() - dt.timedelta(hours=49)
    fake.set_user("o_late", interacted_ago=49 * 3600)
    return follower


class TestCrashesAndConcurrency:
    def test_a_crashed_drainers_rows_are_retried_after_the_lease(self, app, worker, fake, api):
        runtime = app.extensions["unionbot"]
        notify(app, worker)
        crashed = Drainer(runtime, api)
        assert len(crashed.claim()) == 1  # ... and the process dies before sending
        survivor = Drainer(runtime, api)
        assert survivor.drain_once() == 0  # the lease still holds
        with runtime.session_factory.begin() as session:
            session.execute(
                update(OutboxMessage).values(lease_expires_at=utcnow() - dt.timedelta(seconds=1))
            )
        assert survivor.drain_once() == 1
        assert texts_sent(fake) == ["您的申请已受理"]
        assert row(app).attempts == 2

    def test_two_drainers_never_send_one_row_twice(self, make_app, fake):
        app = make_app(outbox={"custom_window_budget": 1000, "batch_size": 10})
        fake.custom_window_budget = 1000
        worker = greet(app, fake)
        with app.extensions["unionbot"].session_factory.begin() as session:
            for n in range(120):
                enqueue(
                    session,
                    key=f"notice:{n}",
                    channel="notice",
                    kind="reply",
                    follower_id=worker.id,
                    recipient=worker.openid,
                    payload={"text": f"n{n}"},
                )
        run_drainers([drainer_for(app), drainer_for(app)], lambda: len(texts_sent(fake)) >= 120)
        assert sorted(texts_sent(fake)) == sorted(f"n{n}" for n in range(120))


class TestRateLimits:
    def test_drainers_together_stay_under_the_limit(self, make_app, fake):
        app = make_app(outbox={"custom_per_second": 5, "custom_window_budget": 100})
        fake.custom_window_budget = 100
        follower = greet(app, fake)
        for n in range(12):
            notify(app, follower, text=f"通知{n}")
        run_drainers([drainer_for(app), drainer_for(app)], lambda: len(texts_sent(fake)) >= 12)
        calls = [c["at"] for c in fake.calls_to("message/custom/send")]
        assert len(calls) == 12
        with app.extensions["unionbot"].session_factory() as session:
            used = session.scalars(select(RateWindow.used).where(RateWindow.api == "custom")).all()
        # 12 calls at 5 a second take three windows; unused permits of a window lapse.
        assert len(used) >= 3 and sum(used) >= 12 and max(used) <= 5


class TestMassAndMedia:
    def test_mass_send_is_idempotent_by_clientmsgid(self, app, fake, drainer):
        for openid in ("o_a", "o_b", "o_c"):
            fake.set_user(openid)
        payload = {
            "openids": ["o_a", "o_b", "o_c"],
            "text": "冬送温暖",
            "client_msg_id": "winter-2026",
        }
        with app.extensions["unionbot"].session_factory.begin() as session:
            enqueue(session, key="mass:winter-2026", channel=MASS, kind="campaign", payload=payload)
        drainer.drain_once()
        first = row(app)
        assert first.status == "sent" and first.wechat_msgid
        # A crash after WeChat accepted it: the row is sent again, and WeChat refuses the copy.
        with app.extensions["unionbot"].session_factory.begin() as session:
            session.execute(update(OutboxMessage).values(status="pending"))
        drainer.drain_once()
        assert [c["errcode"] for c in fake.calls_to("message/mass/send")] == [0, 45065]
        assert row(app).status == "sent"
        assert fake.users["o_a"].mass_received  # delivered once

    def test_media_is_downloaded_and_stored_by_hash(self, app, fake, drainer):
        with app.extensions["unionbot"].session_factory.begin() as session:
            enqueue(
                session, key="media:M1", channel=MEDIA, kind="proof", payload={"media_id": "M1"}
            )
        drainer.drain_once()
        with app.extensions["unionbot"].session_factory() as session:
            media = session.scalars(select(MediaFile)).one()
        stored = Path(app.extensions["unionbot"].settings.outbox.media_dir) / media.path
        assert stored.read_bytes().startswith(b"\x89PNG")
        assert media.sha256 in media.path and media.content_type == "image/png"

    def test_expired_media_is_dead(self, app, fake, drainer):
        fake.expired_media.add("OLD")
        with app.extensions["unionbot"].session_factory.begin() as session:
            enqueue(
                session, key="media:OLD", channel=MEDIA, kind="proof", payload={"media_id": "OLD"}
            )
        drainer.drain_once()
        assert (row(app).status, row(app).last_error_code) == ("dead", 40007)

    def test_a_database_hiccup_while_storing_is_retried_not_dead(
        self, app, fake, drainer, monkeypatch
    ):
        import bot.outbox

        def locked(*args, **kwargs):
            raise OperationalError("INSERT …", {}, Exception("database is locked"))

        monkeypatch.setattr(bot.outbox, "record_media", locked)
        with app.extensions["unionbot"].session_factory.begin() as session:
            enqueue(
                session, key="media:M2", channel=MEDIA, kind="proof", payload={"media_id": "M2"}
            )
        drainer.drain_once()
        stored = row(app)
        assert stored.status == "pending" and "数据库暂时不可用" in stored.last_error
        assert stored.next_attempt_at > utcnow()
        monkeypatch.undo()
        with app.extensions["unionbot"].session_factory.begin() as session:
            session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        drainer.drain_once()
        assert row(app).status == "sent"


class TestSlowReplies:
    def test_slow_reply_becomes_a_customer_service_message(self, make_app, fake, monkeypatch):
        import handlers
        from handlers import Text

        app = make_app(outbox={"reply_budget_seconds": 0.3})
        runs = []

        def slow(message, state):
            runs.append(message.text)
            time.sleep(0.8)
            return [Text("这是慢慢想好的回答")]

        monkeypatch.setattr(handlers, "route", lambda m, s: slow)
        wechat = simulator_for(app)
        fake.set_user("o_worker")
        body = wechat.text_xml("o_worker", "难题", msg_id=424242)
        started = time.monotonic()
        first = wechat.deliver(body)
        assert first.body == b"success" and time.monotonic() - started < 0.7
        retry = wechat.deliver(body)  # WeChat retries; the work is not started again
        assert retry.body == b"success"
        assert runs == ["难题"]
        app.extensions["unionbot"].executor.shutdown(wait=True)  # the handler finishes
        drainer_for(app).drain_until_empty()
        assert texts_sent(fake) == ["这是慢慢想好的回答"]


def choose(app, openid: str, event: str, choices: dict[str, str]) -> None:
    """The worker answers WeChat's subscription popup (or changes it in settings)."""
    container = {
        "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
        "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
    }[event]
    entries = "".join(
        f"<List><TemplateId><![CDATA[{tid}]]></TemplateId><SubscribeStatusString>"
        f"<![CDATA[{status}]]></SubscribeStatusString><PopupScene>2</PopupScene></List>"
        for tid, status in choices.items()
    )
    sim = simulator_for(app)
    body = sim.xml(openid, "event", Event=event)
    body = body.replace(b"</xml>", f"<{container}>{entries}</{container}></xml>".encode())
    assert sim.deliver(body).body == b"success"


SUBSCRIBE_SETTINGS = {
    "outbox": {
        "subscribe_templates": {"aid.decision": "SUB_NOTICE"},
        "templates": {"aid.decision": "TPL_NOTICE"},
    }
}


class TestSubscriptionNotices:
    def test_popup_and_change_events_record_consent(self, app, fake):
        follower = greet(app, fake)
        choose(
            app,
            "o_worker",
            "subscribe_msg_popup_event",
            {"SUB_NOTICE": "accept", "SUB_B": "reject"},
        )
        with app.extensions["unionbot"].session_factory() as session:
            rows = {c.template_id: c.status for c in session.query(SubscribeConsent)}
        assert rows == {"SUB_NOTICE": "accept", "SUB_B": "reject"}
        choose(app, "o_worker", "subscribe_msg_change_event", {"SUB_NOTICE": "reject"})
        with app.extensions["unionbot"].session_factory() as session:
            assert session.get(SubscribeConsent, (follower.id, "SUB_NOTICE")).status == "reject"

    def test_closed_window_with_consent_sends_a_subscription_notice(self, make_app, fake):
        app = make_app(**SUBSCRIBE_SETTINGS)
        follower = _worker_with_closed_window(app, fake)
        choose(app, "o_late", "subscribe_msg_popup_event", {"SUB_NOTICE": "accept"})
        notify(app, follower, text="您的帮扶申请已通过")
        drainer_for(app).drain_once()
        assert (row(app).status, row(app).sent_via) == ("sent", "subscribe")
        call = fake.calls_to("message/subscribe/bizsend")[0]["json"]
        assert (
            call["touser"] == "o_late" and call["data"]["thing1"]["value"] == "您的帮扶申请已通过"
        )
        assert not fake.calls_to("message/template/send")

    def test_without_consent_the_template_is_used(self, make_app, fake):
        app = make_app(**SUBSCRIBE_SETTINGS)
        follower = _worker_with_closed_window(app, fake)
        choose(app, "o_late", "subscribe_msg_popup_event", {"SUB_NOTICE": "reject"})
        notify(app, follower)
        drainer_for(app).drain_once()
        assert row(app).sent_via == "template"
        assert not fake.calls_to("message/subscribe/bizsend")

    def test_a_refused_subscription_falls_back_to_the_template(self, make_app, fake):
        app = make_app(**SUBSCRIBE_SETTINGS)
        follower = _worker_with_closed_window(app, fake)
        choose(app, "o_late", "subscribe_msg_popup_event", {"SUB_NOTICE": "accept"})
        fake.refused.add(("o_late", "SUB_NOTICE"))  # turned off, and we missed the event
        notify(app, follower)
        drainer_for(app).drain_once()
        assert [c["errcode"] for c in fake.calls_to("message/subscribe/bizsend")] == [43101]
        assert row(app).sent_via == "template"


def test_a_malformed_row_dies_with_its_reason_and_the_batch_goes_on(app, worker, fake, drainer):
    with app.extensions["unionbot"].session_factory.begin() as session:
        enqueue(
            session,
            key="broken",
            channel="notice",
            kind="reply",
            follower_id=worker.id,
            recipient=worker.openid,
            payload={},
        )  # no text
    notify(app, worker, text="正常的通知")
    assert drainer.drain_once() == 2
    assert row(app, idempotency_key="broken").status == "dead"
    assert "KeyError" in row(app, idempotency_key="broken").last_error
    assert texts_sent(fake) == ["正常的通知"]


def test_no_call_starts_at_the_very_end_of_a_window(app):
    now = [1_000_000.98]  # 20 ms before a one-second window ends
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    permits = Permits(app.extensions["unionbot"], clock=lambda: now[0], sleep=sleep)
    assert permits.take("custom") is None
    assert slept == [0.02]
    with app.extensions["unionbot"].session_factory() as session:
        windows = session.scalars(select(RateWindow.window).where(RateWindow.api == "custom")).all()
    assert windows == [1_000_001]  # the permit came from the next window


def test_a_deferred_reply_leaves_held_notices_held(make_app, fake, monkeypatch):
    import handlers
    from handlers import Text

    app = make_app(outbox={"reply_budget_seconds": 0.2})
    follower = _worker_with_closed_window(app, fake)
    notify(app, follower, text="您的帮扶申请已通过")
    drainer_for(app).drain_once()
    assert row(app).status == "held"

    def slow(message, state):
        time.sleep(0.5)
        return [Text("慢回复")]

    monkeypatch.setattr(handlers, "route", lambda m, s: slow)
    assert simulator_for(app).send_text("o_late", "你好").body == b"success"
    app.extensions["unionbot"].executor.shutdown(wait=True)
    held = row(app, idempotency_key="k:您的帮扶申请已通过")
    assert (held.status, held.sent_via) == ("held", None)


def test_identical_photos_downloaded_at_once_are_both_stored(app, fake, api):
    """The fake serves the same bytes for every media id, like two copies of one photo."""
    runtime = app.extensions["unionbot"]
    with runtime.session_factory.begin() as session:
        for n in range(6):
            enqueue(
                session,
                key=f"media:S{n}",
                channel=MEDIA,
                kind="proof",
                payload={"media_id": f"S{n}"},
            )
    Drainer(runtime, api).drain_once()  # 16 sends at once: the six downloads race
    with runtime.session_factory() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
        stored = session.scalars(select(MediaFile.path)).all()
    assert statuses == ["sent"] * 6 and len(set(stored)) == 1 and len(stored) == 6
    assert not list(Path(runtime.settings.outbox.media_dir).rglob("*.part"))
