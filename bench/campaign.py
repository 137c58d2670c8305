"""Plan and queue a campaign run to N followers; report the planning time and peak memory.

    python bench/campaign.py                       # 100,000 followers, SQLite in a temp dir
    python bench/campaign.py --channel notice      # one outbox row per follower instead
    python bench/campaign.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench

Targets (issue 14): under 10 s and under 200 MB peak RSS on the 2-core machine. The
followers are inserted first, in chunks, and not timed; a third of them are inside the
48-hour window and every tenth has had four mass messages this month, so the planner
has quota decisions to make. Peak RSS is the whole process's (``ru_maxrss``), setup
included; the figure before planning is printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, insert, select

from models import Follower, OutboxMessage
from models.base import utcnow
from models.campaign_control import run_now
from models.campaign_plan import plan_run
from models.campaign_preview import Limits
from models.campaign_runs import CampaignRecipient, CampaignRun, start_run
from models.campaigns import approve, create
from models.database import make_engine, make_session_factory, serialised
from models.migrate import recreate

TEXT = "【冬送温暖】两节将至，县总工会开展走访慰问。有困难未被联系的，请回复“冬送温暖”登记。"
CHUNK = 5000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def populate(factory, followers: int, now: dt.datetime) -> None:
    """Followers, and a past run that gave every tenth one four mass messages this month."""
    with factory.begin() as session:
        for start in range(0, followers, CHUNK):
            rows = [
                {
                    "openid": f"o_bench_{n:07d}",
                    "subscribed": True,
                    "is_demo": False,
                    "created_at": now,
                    "last_interaction_at": now - dt.timedelta(hours=1 if n % 3 == 0 else 200),
                }
                for n in range(start, min(start + CHUNK, followers))
            ]
            session.execute(insert(Follower), rows)
        earlier = create(session, values("earlier", "mass"), "staff:zhang")
        approve(session, earlier, "staff:li", now)
        ids = session.scalars(select(Follower.id).where(Follower.id % 10 == 0)).all()
        for k in range(4):
            past = start_run(session, earlier.id, now - dt.timedelta(hours=k + 1), now)
            past.status = "done"
            session.flush()
            session.execute(
                insert(CampaignRecipient),
                [
                    {"run_id": past.id, "follower_id": i, "channel": "mass", "created_at": now}
                    for i in ids
                ],
            )


def values(code: str, channel: str) -> dict:
    return {
        "code": code,
        "name": code,
        "season": "winter",
        "send_times": ["cron 0 9 15 12 *"],
        "audience": {"rule": "all"},
        "channel": channel,
        "content": TEXT,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--channel", choices=("mass", "notice"), default="mass")
    parser.add_argument("--database", help="default: SQLite in a temporary directory")
    parser.add_argument("--batch", type=int, default=1000, help="[campaigns] plan_batch_size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        recreate(engine)
        factory = make_session_factory(engine)
        now = utcnow()
        populate(factory, args.followers, now)
        with factory.begin() as session:
            campaign = create(session, values("bench", args.channel), "staff:zhang")
            approve(session, campaign, "staff:li", now)
            run_id = run_now(session, campaign, "staff:li", now, ("03:00", "03:01")).id
        before = rss_mb()

        @contextmanager
        def transaction():
            with serialised(factory) as session, session.begin():
                yield session

        started = time.perf_counter()
        status = plan_run(transaction, run_id, Limits(plan_batch_size=args.batch), lambda: now)
        seconds = time.perf_counter() - started
        with factory() as session:
            run = session.get(CampaignRun, run_id)
            rows = session.scalar(
                select(func.count()).where(
                    OutboxMessage.idempotency_key.like(f"campaign:{run_id}:%")
                )
            )
            recipients = session.scalar(
                select(func.count()).where(CampaignRecipient.run_id == run_id)
            )
        engine.dispose()
    print(f"database            {engine.dialect.name}")
    print(f"followers           {args.followers}")
    print(f"run                 {status}; {recipients} recipients; {rows} outbox rows")
    print(f"mass calls          {run.mass_calls}")
    print(f"planning            {seconds:.2f} s ({args.followers / seconds:,.0f} followers/s)")
    print(f"peak RSS            {rss_mb():.0f} MB (before planning {before:.0f} MB)")


if __name__ == "__main__":
    main()
