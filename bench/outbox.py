"""Outbox drain rate against the fake WeChat, over real HTTP on loopback.

    python bench/outbox.py                      # SQLite, 1 drainer, 0 and 50 ms latency
    python bench/outbox.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/outbox.py --per-worker 3       # 3 notices to each worker, sent in order

Each run: start the fake WeChat (``unionbot fake-wechat``) in its own process,
queue N notices to N workers inside their 48-hour window (or to N / K
workers, K each, queued in a row: they leave one after another), start the drainer
processes, and time until every row is sent. A last run sets a rate limit and
reports the busiest second the fake saw. Prints messages per second.
The PostgreSQL database given is emptied.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import create_app
from bot.config import load_settings
from bot.outbox import Drainer
from bot.wechat.api import connect
from models import Follower, OutboxMessage
from models.base import utcnow
from models.database import make_engine
from models.migrate import recreate

APP_ID, SECRET = "wxbench000000000", "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(database: str, fake_url: str, per_second: int, batch_size: int = 100, **outbox):
    return load_settings(
        env={},
        overrides={
            "wechat": {
                "app_id": APP_ID,
                "app_secret": SECRET,
                "token": "benchtoken",
                "api_base_url": fake_url + "/cgi-bin/",
            },
            "database": {"url": database},
            "security": {"secret_key": "bench-secret-key-0123456789"},
            "outbox": {
                "custom_per_second": per_second,
                "batch_size": batch_size,
                **outbox,
            },
        },
    )


def reset_database(database: str) -> None:
    engine = make_engine(database)
    recreate(engine)
    engine.dispose()


def queue(database: str, count: int, per_worker: int = 1) -> None:
    """``count`` notices due now, ``per_worker`` to each worker, a worker's in a row (the
    claim takes them together, and one thread sends them in turn)."""
    engine = make_engine(database)
    now = utcnow()
    workers = -(-count // per_worker)  # the last may get fewer
    with engine.begin() as conn:
        conn.execute(
            insert(Follower),
            [
                {
                    "openid": f"o_bench_{n}",
                    "subscribed": True,
                    "is_demo": True,
                    "last_interaction_at": now,
                    "created_at": now,
                }
                for n in range(workers)
            ],
        )
        ids = dict(conn.execute(select(Follower.openid, Follower.id)).all())
        conn.execute(
            insert(OutboxMessage),
            [
                {
                    "idempotency_key": f"bench:{n}",
                    "channel": "notice",
                    "kind": "bench",
                    "follower_id": ids[f"o_bench_{n // per_worker}"],
                    "recipient": f"o_bench_{n // per_worker}",
                    "payload": {"text": f"压测通知 {n}"},
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for n in range(count)
            ],
        )
    engine.dispose()


def unsent(database: str) -> int:
    engine = make_engine(database)
    with engine.connect() as conn:
        left = conn.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
    engine.dispose()
    return left


@contextmanager
def fake_wechat(database: str) -> Iterator[str]:
    """Run ``unionbot fake-wechat`` in its own process while the block runs; yield its URL."""
    port = free_port()
    env = {
        **os.environ,
        "UNIONBOT_WECHAT_APP_ID": APP_ID,
        "UNIONBOT_WECHAT_APP_SECRET": SECRET,
        "UNIONBOT_DATABASE_URL": database,
    }
    env.pop("UNIONBOT_CONFIG", None)
    fake = subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "bot", "fake-wechat", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fake_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(fake_url + "/_fake/calls", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield fake_url
    finally:
        fake.terminate()
        fake.wait(timeout=10)


def drain_process(
    database: str, fake_url: str, per_second: int, start, stop, batch_size: int = 100
) -> None:
    settings = settings_for(database, fake_url, per_second, batch_size)
    runtime = create_app(settings).extensions["unionbot"]
    drainer = Drainer(runtime, connect(runtime.settings, runtime.session_factory))
    start.wait()
    while not stop.is_set():
        if not drainer.drain_once():
            time.sleep(0.01)


def prepare(database: str, fake_url: str, count: int, latency_ms: int, per_worker: int = 1) -> None:
    """A fresh fake (answering after ``latency_ms``) and database with ``count`` notices due,
    ``per_worker`` to each worker."""
    requests.post(fake_url + "/_fake/reset", timeout=5)
    if latency_ms:
        requests.post(
            fake_url + "/_fake/faults",
            json={"path": "*", "latency_ms": latency_ms, "times": -1},
            timeout=5,
        )
    reset_database(database)
    queue(database, count, per_worker)


def run(database, fake_url, count, drainers, latency_ms, per_second=1_000_000, per_worker=1):
    prepare(database, fake_url, count, latency_ms, per_worker)
    runtime = create_app(settings_for(database, fake_url, per_second)).extensions["unionbot"]
    connect(runtime.settings, runtime.session_factory).store.get()  # warm the token
    context = multiprocessing.get_context("spawn")
    start, stop = context.Event(), context.Event()
    workers = [
        context.Process(target=drain_process, args=(database, fake_url, per_second, start, stop))
        for _ in range(drainers)
    ]
    for worker in workers:
        worker.start()
    time.sleep(2)  # let the processes import and connect before the clock starts
    began = time.perf_counter()
    start.set()
    while unsent(database):
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    stop.set()
    for worker in workers:
        worker.join()
    calls = requests.get(fake_url + "/_fake/calls", timeout=30).json()["calls"]
    sends = [c for c in calls if c["path"] == "message/custom/send"]
    if len(sends) != count:  # exactly once, or the figure means nothing
        raise SystemExit(f"fake saw {len(sends)} sends for {count} messages")
    busiest = max(Counter(int(c["at"]) for c in sends).values())
    return count / elapsed, elapsed, busiest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument(
        "--drainers",
        type=int,
        nargs="+",
        help="drainer process counts (default: 1 on SQLite, 1 and 2 on PostgreSQL)",
    )
    parser.add_argument(
        "--per-worker",
        type=int,
        default=1,
        choices=range(1, 6),  # the 48-hour window's budget is 5 messages
        help="notices to each worker (default 1); a worker's leave one after another",
    )
    args = parser.parse_args()
    database = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    is_pg = database.startswith("postgresql")
    counts = args.drainers or ([1, 2] if is_pg else [1])

    with fake_wechat(database) as fake_url:
        backend = "PostgreSQL" if is_pg else "SQLite"
        print(
            f"outbox drain benchmark: {backend}, {args.messages} notices, "
            f"{args.per_worker} per worker, fake WeChat over HTTP"
        )
        for latency in (0, 50):
            for drainers in counts:
                rate, elapsed, _ = run(
                    database, fake_url, args.messages, drainers, latency, per_worker=args.per_worker
                )
                print(
                    f"  latency {latency:>2} ms, {drainers} drainer(s): "
                    f"{rate:7.0f} messages/s ({elapsed:.1f} s)"
                )
        limit = 200
        rate, elapsed, busiest = run(database, fake_url, 1000, max(counts), 0, per_second=limit)
        print(
            f"  rate limit {limit}/s, {max(counts)} drainer(s): {rate:.0f} messages/s, "
            f"busiest second at the fake: {busiest} calls"
        )


if __name__ == "__main__":
    main()
