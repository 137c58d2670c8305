"""SIGKILL the worker in the middle of a campaign run, start another: every follower gets
the message exactly once, nobody is skipped (the fake WeChat over HTTP; the test database,
so SQLite and, with TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import select

from bot.config import DEMO_DATA_KEY
from bot.fake_wechat import Fault
from models.base import utcnow
from models.campaign_control import run_now
from models.campaign_runs import DONE_RUN, CampaignRun
from models.campaigns import find_campaign
from tests.campaign_support import add_followers, approved_campaign
from tests.conftest import APP_ID, APP_SECRET

FOLLOWERS = 40


def config_for(tmp_path, fake_url: str, database_url: str) -> str:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[wechat]
token = "prodtoken"
app_id = "{APP_ID}"
app_secret = "{APP_SECRET}"
api_base_url = "{fake_url}/cgi-bin/"
[security]
secret_key = "{"s" * 32}"
data_key = "{DEMO_DATA_KEY}"
[database]
url = "{database_url}"
[scheduler]
leader_lease_seconds = 3
[outbox]
drain_interval_seconds = 0.2
send_concurrency = 2
lease_seconds = 2
mass_per_minute = 6000
[campaigns]
mass_batch_size = 2
plan_batch_size = 5
tick_seconds = 1
# Quiet hours of one minute at 03:00: the run may start whenever the suite runs.
quiet_start = "03:00"
quiet_end = "03:01"
""",
        encoding="utf-8",
    )
    return str(config)


def start_worker(tmp_path, config: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker", "--config", config],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def reached(fake) -> Counter:
    """How many accepted mass calls each openid was in."""
    return Counter(
        o for c in fake.calls_to("message/mass/send", ok_only=True) for o in c["json"]["touser"]
    )


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_run_killed_mid_way_reaches_everyone_exactly_once(app, fake, tmp_path):
    runtime = app.extensions["unionbot"]
    config = config_for(
        tmp_path,
        runtime.settings.wechat.api_base_url.removesuffix("/cgi-bin/"),
        runtime.settings.database.url,
    )
    factory = runtime.session_factory
    with factory.begin() as session:
        fans = [f.openid for f in add_followers(session, FOLLOWERS)]
        approved_campaign(session)
    with factory.begin() as session:
        campaign = find_campaign(session, "test_jobs")
        run_now(session, campaign, "staff:li", utcnow(), ("03:00", "03:01"))
    # Each call takes a while, so the kill comes with calls in flight and calls to come.
    fake.inject(Fault(path="message/mass/send", latency_ms=150, times=-1))

    first = start_worker(tmp_path, config)
    try:
        assert wait_until(lambda: len(reached(fake)) >= 8, 30), "the first worker sent nothing"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(5)
        assert len(reached(fake)) < FOLLOWERS  # killed mid-way

        second = start_worker(tmp_path, config)
        try:
            assert wait_until(lambda: len(reached(fake)) == FOLLOWERS, 40), sorted(reached(fake))

            def run_done() -> bool:
                with factory() as session:
                    return session.scalars(select(CampaignRun.status)).one() == DONE_RUN

            assert wait_until(run_done, 15)
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        fake.clear_faults()
    assert reached(fake) == Counter(dict.fromkeys(fans, 1))
    assert all(sum(fake.users[o].mass_received.values()) == 1 for o in fans)
