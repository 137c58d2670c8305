"""A 100,000-follower campaign run through a SIGKILL of the worker: reached exactly once?

    python bench/campaign_kill.py [--followers 100000] [--kill-after 2.0]

The followers and the run are those of ``bench/campaign.py`` (90,000 by 9 mass calls,
3,334 by a notice inside the 48-hour window, the rest not reachable). The fake WeChat
runs in its own process and takes 300 ms per mass call. ``unionbot worker`` plans and
sends; it is SIGKILLed ``--kill-after`` seconds after its first accepted mass call, a
second worker is started, and the bench waits for the run to be done. It then counts,
from the fake's own log, how many times each follower was reached. Mass calls must
reach everyone exactly once (the clientmsgid); a notice may be repeated only if it was
in flight at the kill (at most ``send_concurrency``), and then it is marked uncertain.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from campaign import populate, values  # a sibling script, found through sys.path above
from outbox import APP_ID, SECRET, fake_wechat

from models import OutboxMessage
from models.base import utcnow
from models.campaign_control import run_now
from models.campaign_runs import DONE_RUN, CampaignRun
from models.campaigns import approve, create
from models.database import make_engine, make_session_factory
from models.migrate import recreate


def write_config(path: Path, database: str, fake_url: str) -> str:
    data_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    path.write_text(
        f"""
[wechat]
token = "benchtoken"
app_id = "{APP_ID}"
app_secret = "{SECRET}"
api_base_url = "{fake_url}/cgi-bin/"
[security]
secret_key = "{secrets.token_urlsafe(32)}"
data_key = "{data_key}"
[database]
url = "{database}"
[scheduler]
leader_lease_seconds = 3
[outbox]
lease_seconds = 3
mass_per_minute = 6000
[campaigns]
tick_seconds = 1
quiet_start = "03:00"
quiet_end = "03:01"
""",
        encoding="utf-8",
    )
    return str(path)


def worker(config: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "bot", "worker", "--config", config],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def accepted(fake_url: str, path: str) -> list[dict]:
    calls = requests.get(fake_url + "/_fake/calls", timeout=30).json()["calls"]
    return [c for c in calls if c["path"] == path and c["errcode"] == 0]


def wait(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--kill-after", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'kill.db'}"
        engine = make_engine(database)
        recreate(engine)
        factory = make_session_factory(engine)
        now = utcnow()
        populate(factory, args.followers, now)
        with factory.begin() as session:
            campaign = create(session, values("bench", "mass"), "staff:zhang")
            approve(session, campaign, "staff:li", now)
            run_id = run_now(session, campaign, "staff:li", now, ("03:00", "03:01")).id
        with fake_wechat(database) as fake_url:
            fault = {"path": "message/mass/send", "latency_ms": 300, "times": -1}
            requests.post(fake_url + "/_fake/faults", json=fault, timeout=5)
            config = write_config(Path(tmp) / "config.toml", database, fake_url)
            started = time.monotonic()
            first = worker(config)
            wait(lambda: accepted(fake_url, "message/mass/send"), 120)
            time.sleep(args.kill_after)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            killed_at = time.monotonic() - started
            before = len(accepted(fake_url, "message/mass/send"))
            second = worker(config)

            def done() -> bool:
                with factory() as session:
                    return session.get(CampaignRun, run_id).status == DONE_RUN

            finished = wait(done, 300, 1.0)
            elapsed = time.monotonic() - started
            second.send_signal(signal.SIGTERM)
            second.wait(30)
            mass = accepted(fake_url, "message/mass/send")
            notices = accepted(fake_url, "message/custom/send")
        with factory() as session:
            uncertain = session.scalar(
                select(func.count()).where(
                    OutboxMessage.uncertain > 0, OutboxMessage.kind == "campaign"
                )
            )
            queued_notices = session.scalar(
                select(func.count()).where(
                    OutboxMessage.channel == "notice", OutboxMessage.kind == "campaign"
                )
            )
        engine.dispose()
    by_mass = Counter(o for call in mass for o in call["json"]["touser"])
    by_notice = Counter(call["json"]["touser"] for call in notices)
    print(f"followers           {args.followers}")
    print(f"run done            {finished} in {elapsed:.1f} s (killed at {killed_at:.1f} s)")
    print(f"mass calls accepted {len(mass)} ({before} before the kill)")
    print(
        f"reached by mass     {len(by_mass)}; twice or more: {sum(n > 1 for n in by_mass.values())}"
    )
    print(
        f"notices             {len(by_notice)} of {queued_notices} queued; "
        f"twice: {sum(n > 1 for n in by_notice.values())}; marked uncertain: {uncertain}"
    )


if __name__ == "__main__":
    main()
