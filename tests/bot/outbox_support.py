"""What the outbox tests share: workers who wrote in, a notice, a controllable clock, a
drainer, and reading back rows and what the fake WeChat received."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.outbox import Drainer
from bot.wechat.api import connect
from models import Follower, OutboxMessage
from models.base import utcnow
from models.outbox import enqueue_notice
from tests.conftest import simulator_for


def greet(app, fake, openid="o_worker") -> Follower:
    """A worker messages the account, which opens the 48-hour window."""
    simulator_for(app).send_text(openid, "你好")
    fake.set_user(openid)
    with app.extensions["unionbot"].session_factory() as session:
        return session.scalars(select(Follower).where(Follower.openid == openid)).one()


def workers(app, fake, count: int) -> list[Follower]:
    """``count`` workers whose 48-hour window is open, without a conversation each."""
    with app.extensions["unionbot"].session_factory.begin() as session:
        followers = [Follower(openid=f"o_w{n}", last_interaction_at=utcnow()) for n in range(count)]
        session.add_all(followers)
    for follower in followers:
        fake.set_user(follower.openid)
    return followers


class Clock:
    """A clock the test moves: drainers and breakers read it instead of the real time."""

    def __init__(self) -> None:
        # The next whole second: what was queued is due, and no rate-limit window is
        # near its end (see Permits).
        self.now = utcnow().replace(microsecond=0) + dt.timedelta(seconds=1)
        self.start = self.now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

    @property
    def elapsed(self) -> float:
        return (self.now - self.start).total_seconds()


def drainer_for(app, clock: Clock | None = None) -> Drainer:
    runtime = app.extensions["unionbot"]
    if clock is None:
        return Drainer(runtime, connect(runtime.settings, runtime.session_factory))
    api = connect(runtime.settings, runtime.session_factory, clock=clock)
    return Drainer(runtime, api, clock=clock, rng=lambda: 0.5)


def notify(app, follower, text="您的申请已受理", key=None, kind="aid.decision"):
    with app.extensions["unionbot"].session_factory.begin() as session:
        return enqueue_notice(
            session,
            key=key or f"k:{text}",
            kind=kind,
            follower_id=follower.id,
            openid=follower.openid,
            text=text,
        )


def row(app, **filters) -> OutboxMessage:
    with app.extensions["unionbot"].session_factory() as session:
        return session.scalars(select(OutboxMessage).filter_by(**filters)).one()


def texts_sent(fake) -> list[str]:
    return [
        c["json"]["text"]["content"] for c in fake.calls_to("message/custom/send", ok_only=True)
    ]
