"""Duplicates when a drainer process is killed (SIGKILL) while it sends.

    python bench/outbox_kill.py [--kills 10] [--messages 400] [--latency 20]

Each kill: queue notices to workers inside their window, start a drainer process
against the fake WeChat (its own process, over HTTP), SIGKILL the drainer once the
fake has seen a random number of sends, then expire the leases (as if
``lease_seconds`` had passed) and let a fresh drainer finish. For each kill it
reports the rows the dead drainer left ``sending`` (they wait for the lease), how
many of them are marked uncertain, and the duplicates the fake received.
Sends are at-least-once, so a kill may duplicate what was in flight, never more.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from outbox import drain_process, fake_wechat, prepare, settings_for

from bot import create_app
from bot.outbox import Drainer
from bot.wechat.api import connect
from models import OutboxMessage
from models.base import utcnow
from models.database import make_engine
from models.outbox import count_uncertain

SEND = "message/custom/send"
BATCH_SIZE = 50  # the default


def sends(fake_url: str) -> list[str]:
    calls = requests.get(fake_url + "/_fake/calls", timeout=30).json()["calls"]
    return [c["json"]["text"]["content"] for c in calls if c["path"] == SEND and not c["errcode"]]


def kill_once(database: str, fake_url: str, count: int, latency_ms: int, after: int) -> dict:
    prepare(database, fake_url, count, latency_ms)
    context = multiprocessing.get_context("spawn")
    start, stop = context.Event(), context.Event()
    drainer = context.Process(
        target=drain_process, args=(database, fake_url, 1_000_000, start, stop, BATCH_SIZE)
    )
    drainer.start()
    start.set()
    while len(sends(fake_url)) < after:
        if not drainer.is_alive():
            raise SystemExit("the drainer process stopped by itself")
        time.sleep(0.005)
    drainer.kill()  # SIGKILL: no cleanup, no last commit
    drainer.join()
    engine = make_engine(database)
    with engine.begin() as conn:
        sending = select(func.count()).select_from(OutboxMessage)
        waiting = conn.scalar(sending.where(OutboxMessage.status == "sending"))
        # The lease runs out; any drainer takes the rows again.
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending")
            .values(lease_expires_at=utcnow())
        )
    engine.dispose()
    settings = settings_for(database, fake_url, 1_000_000, BATCH_SIZE)
    runtime = create_app(settings).extensions["unionbot"]
    survivor = Drainer(runtime, connect(runtime.settings, runtime.session_factory))
    survivor.drain_until_empty(120)
    survivor.close()  # or its kept-alive connections fill the fake's connection limit
    with runtime.session_factory() as session:
        uncertain = count_uncertain(session)  # marked when taken after their lease ran out
        left = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
    runtime.engine.dispose()
    seen = Counter(sends(fake_url))
    if left or len(seen) != count:
        raise SystemExit(f"not every notice arrived: {left} rows unsent, {len(seen)} distinct")
    return {
        "killed_after": after,
        "waited_for_lease": waiting,
        "uncertain": uncertain,
        "duplicates": sum(n - 1 for n in seen.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--latency", type=int, default=20, help="fake WeChat latency, ms")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    database = f"sqlite:///{tempfile.mkdtemp()}/kill.db"
    rng = random.Random(args.seed)  # noqa: S311 (where to kill, not a secret)
    with fake_wechat(database) as fake_url:
        print(
            f"drainer killed mid-batch: SQLite, {args.messages} notices, "
            f"fake WeChat latency {args.latency} ms"
        )
        results = []
        for _ in range(args.kills):
            result = kill_once(
                database, fake_url, args.messages, args.latency, rng.randint(20, args.messages // 2)
            )
            results.append(result)
            print("  " + ", ".join(f"{k} {v}" for k, v in result.items()))
        duplicates = [r["duplicates"] for r in results]
        waited = [r["waited_for_lease"] for r in results]
        kills = len(results)
        print(
            f"duplicates per kill: max {max(duplicates)}, mean {sum(duplicates) / kills:.1f}; "
            f"rows waiting for the lease: max {max(waited)}, mean {sum(waited) / kills:.1f}"
        )


if __name__ == "__main__":
    main()
