"""A delivery answered ``success`` before its reply was stored survives the process.

WeChat sends nothing again after ``success``; until the delivery commits, the parked
copy on disk is the only one. A web process that starts resumes the copies of
processes that died, and the reply still goes out exactly once.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor, Future
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

import handlers
from bot.parked import Parking
from handlers.messages import Inbound
from models import Delivery
from models.base import utcnow
from tests.bot.outbox_support import drainer_for, texts_sent
from tests.conftest import simulator_for


class Killed(Executor):
    """A process that dies right after answering: the work it took never runs."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return Future()


def parked_files(app) -> list[Path]:
    return sorted(Path(app.extensions["unionbot"].settings.server.parked_dir).glob("*.parked"))


def late_request(app, openid: str, text: str, msg_id: int):
    wechat = simulator_for(app)
    params, body = wechat.signed_params(wechat.text_xml(openid, text, msg_id=msg_id))
    late = {"X-Request-Start": f"t={time.time() - 4.5:.3f}"}  # past the 4 s budget
    return app.test_client().post("/wechat", query_string=params, data=body, headers=late)


def test_a_delivery_answered_success_by_a_process_that_died_is_resumed_once(make_app, fake, db):
    fake.set_user("o_parked")
    dying = make_app()
    runtime = dying.extensions["unionbot"]
    dying.extensions["unionbot"] = replace(runtime, executor=Killed())
    assert late_request(dying, "o_parked", "你好", 626262).get_data() == b"success"
    assert len(parked_files(dying)) == 1
    assert db.scalar(select(Delivery.id)) is None  # nothing stored: only the file has it

    restarted = make_app()  # the replacement worker resumes it with its first message
    assert len(parked_files(restarted)) == 1  # building the app (as the CLI does) is not it
    simulator_for(restarted).send_text("o_next", "你好")
    restarted.extensions["unionbot"].executor.shutdown(wait=True)
    assert parked_files(restarted) == []
    again = make_app()  # a later start finds nothing left to resume
    simulator_for(again).send_text("o_next", "在吗")
    again.extensions["unionbot"].executor.shutdown(wait=True)
    drainer_for(restarted).drain_until_empty()
    [sent] = texts_sent(fake)
    assert sent.startswith("您好！有什么可以帮您？")
    db.rollback()  # a fresh snapshot
    parked = select(Delivery.status).where(Delivery.openid == "o_parked")
    assert db.scalars(parked).all() == ["deferred"]


def test_a_parked_delivery_is_dropped_once_stored(app, fake):
    fake.set_user("o_stored")
    assert late_request(app, "o_stored", "你好", 626263).get_data() == b"success"
    app.extensions["unionbot"].executor.shutdown(wait=True)
    assert parked_files(app) == []
    drainer_for(app).drain_until_empty()
    assert len(texts_sent(fake)) == 1


def test_a_reply_over_budget_is_parked_until_its_slow_handler_is_done(make_app, fake, monkeypatch):
    fake.set_user("o_slow")
    app = make_app(outbox={"reply_budget_seconds": 0.3})
    seen_while_running = []
    real_handle = handlers.handle

    def slow(message, state):
        time.sleep(0.8)
        seen_while_running.append(len(parked_files(app)))
        return real_handle(message, state)

    monkeypatch.setattr(handlers, "handle", slow)
    wechat = simulator_for(app)
    assert wechat.send_text("o_slow", "你好").body == b"success"
    app.extensions["unionbot"].executor.shutdown(wait=True)
    assert seen_while_running == [1]
    assert parked_files(app) == []
    drainer_for(app).drain_until_empty()
    assert len(texts_sent(fake)) == 1


def test_a_reply_in_time_parks_nothing(app):
    assert "您好" in simulator_for(app).send_text("o_quick", "你好").text
    assert parked_files(app) == []


def test_a_parked_file_keeps_what_the_worker_typed_encrypted_and_private(make_app, fake):
    dying = make_app()
    dying.extensions["unionbot"] = replace(dying.extensions["unionbot"], executor=Killed())
    late_request(dying, "o_private", "我的身份证320924198001011234", 626264)
    [path] = parked_files(dying)
    assert "320924198001011234" not in path.read_text(encoding="utf-8")
    assert "o_private" not in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o777 == 0o600


def test_another_installations_parked_file_is_left_alone(make_app, fake, db):
    app = make_app()
    runtime = app.extensions["unionbot"]
    other = Parking(runtime.settings.server.parked_dir, "wxother" + "sqlite:///other.db")
    inbound = Inbound(openid="o_elsewhere", kind="text", sent_at=utcnow(), text="你好", msg_id=7)
    path = other.park("m:o_elsewhere:7", inbound)
    restarted = make_app()
    simulator_for(restarted).send_text("o_here", "你好")
    restarted.extensions["unionbot"].executor.shutdown(wait=True)
    assert path.exists()
    assert db.scalar(select(Delivery.id).where(Delivery.openid == "o_elsewhere")) is None
