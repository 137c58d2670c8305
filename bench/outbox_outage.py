"""What a WeChat outage costs: calls made while WeChat answers -1, and what arrives after.

    python bench/outbox_outage.py [--messages 200] [--outage 390] [--drainers 1]

Queues N notices to N workers inside their window, fetches the token, then makes the
fake WeChat (in this process, over HTTP on loopback) answer -1 to every call for
``--outage`` seconds, then recover. A simulated clock moves one second per drain, as
the scheduler drains every second, so ten minutes of outage take a few seconds.
Runs with the circuit breaker off, then on; reports the calls WeChat received during
the outage, how many notices arrived (and how often), and how many were given up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import waitress
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox import APP_ID, SECRET, queue, reset_database, settings_for

from bot import create_app
from bot.fake_wechat import FakeWeChat, Fault, create_fake_app
from bot.outbox import Drainer
from bot.wechat.api import connect
from models import OutboxMessage
from models.base import utcnow

SEND = "message/custom/send"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0) + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return self.now


def run(fake: FakeWeChat, fake_url: str, count: int, outage: int, drainers: int, breaker: bool):
    fake.reset()
    database = f"sqlite:///{tempfile.mkdtemp()}/outage.db"
    reset_database(database)
    queue(database, count)
    settings = settings_for(database, fake_url, 1_000_000, breaker_failures=5 * breaker)
    runtime = create_app(settings).extensions["unionbot"]
    clock = Clock()
    pool = [
        Drainer(runtime, connect(settings, runtime.session_factory, clock=clock), clock=clock)
        for _ in range(drainers)
    ]
    pool[0].api.store.get()
    fake.inject(Fault("*", errcode=-1, times=-1))

    def unsent() -> int:
        with runtime.session_factory() as session:
            query = select(func.count()).select_from(OutboxMessage)
            return session.scalar(query.where(OutboxMessage.status.in_(("pending", "sending"))))

    seconds = 0
    while seconds < outage:
        for drainer in pool:
            drainer.drain_until_empty()
        clock.now += dt.timedelta(seconds=1)
        seconds += 1
    during = len(fake.calls_to(SEND))
    fake.clear_faults()
    while unsent() and seconds < outage + 3600:
        for drainer in pool:
            drainer.drain_until_empty()
        clock.now += dt.timedelta(seconds=1)
        seconds += 1
    with runtime.session_factory() as session:
        statuses = dict(
            session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    for drainer in pool:
        drainer.close()
    runtime.engine.dispose()
    arrived = Counter(c["json"]["text"]["content"] for c in fake.calls_to(SEND, ok_only=True))
    return {
        "calls during the outage": during,
        "arrived": len(arrived),
        "arrived twice": sum(1 for n in arrived.values() if n > 1),
        "failed": statuses.get("failed", 0),
        "all sent after recovery (s)": seconds - outage,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--outage", type=int, default=390, help="seconds (default 6.5 min)")
    parser.add_argument("--drainers", type=int, default=1)
    args = parser.parse_args()
    fake = FakeWeChat(APP_ID, SECRET)
    server = waitress.create_server(create_fake_app(fake), host="127.0.0.1", port=0, threads=16)
    threading.Thread(target=server.run, daemon=True).start()
    fake_url = f"http://127.0.0.1:{server.effective_port}"
    print(
        f"WeChat answers -1 for {args.outage} s: {args.messages} notices, "
        f"{args.drainers} drainer(s), drained every (simulated) second"
    )
    try:
        for breaker in (False, True):
            result = run(fake, fake_url, args.messages, args.outage, args.drainers, breaker)
            shown = ", ".join(f"{k} {v}" for k, v in result.items())
            print(f"  breaker {'on ' if breaker else 'off'}: {shown}")
    finally:
        server.close()


if __name__ == "__main__":
    main()
