"""Scheduled jobs, run by exactly one leader among all scheduler processes.

APScheduler 3 has no cross-process lock: two schedulers would both run every
job. So each scheduler process tries to hold the ``scheduler`` lease in the
database, renewing it every third of its length; jobs run only in the process
that holds it. When the leader dies its lease runs out and another process
takes over within ``leader_lease_seconds``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from bot import Runtime, jobs
from bot.outbox import Drainer
from bot.wechat.api import connect
from models.coordination import release_lease, try_hold_lease
from models.database import serialised

log = logging.getLogger(__name__)
LEASE = "scheduler"


class Leadership:
    """This process's claim on the scheduler lease."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.is_leader = False

    def renew(self) -> bool:
        seconds = self.runtime.settings.scheduler.leader_lease_seconds
        try:
            with serialised(self.runtime.session_factory) as session, session.begin():
                leading = try_hold_lease(session, LEASE, self.holder, seconds)
        except Exception:  # a database hiccup must not leave two leaders: step down
            log.exception("could not renew the scheduler lease")
            leading = False
        if leading != self.is_leader:
            log.info("scheduler %s %s", self.holder, "is now leader" if leading else "stepped down")
        self.is_leader = leading
        return leading

    def release(self) -> None:
        if self.is_leader:
            with self.runtime.session_factory.begin() as session:
                release_lease(session, LEASE, self.holder)
            self.is_leader = False

    def guard(self, job: Callable[[], object]) -> Callable[[], None]:
        """Wrap ``job`` so it runs only while this process leads."""

        def run() -> None:
            if self.is_leader:
                job()

        run.__name__ = run.__qualname__ = getattr(job, "__name__", "job")
        return run


def build_scheduler(runtime: Runtime) -> tuple[BackgroundScheduler, Leadership]:
    settings = runtime.settings
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    leadership = Leadership(runtime)
    drainer = Drainer(runtime, connect(settings, runtime.session_factory))
    scheduler.add_job(
        leadership.renew,
        "interval",
        seconds=settings.scheduler.leader_lease_seconds / 3,
        id="leader_lease",
        next_run_time=dt.datetime.now(dt.UTC),
        max_instances=1,
        coalesce=True,
    )

    def lead(job_id: str, job: Callable[[], object], trigger: str, **when) -> None:
        """Run ``job`` only while leading; never two runs at once, missed runs merged."""
        scheduler.add_job(
            leadership.guard(job), trigger, id=job_id, max_instances=1, coalesce=True, **when
        )

    lead(
        "drain_outbox",
        drainer.drain_until_empty,
        "interval",
        seconds=settings.outbox.drain_interval_seconds,
    )
    lead(
        "purge_old_transcripts",
        lambda: jobs.purge_old_transcripts(runtime),
        "cron",
        hour=3,
        minute=17,
    )
    lead(
        "purge_abandoned_drafts",
        lambda: jobs.purge_abandoned_drafts(runtime),
        "cron",
        hour=3,
        minute=27,
    )
    lead("remind_entrants", lambda: jobs.remind_entrants(runtime), "interval", minutes=10)
    lead(
        "run_campaigns",
        lambda: jobs.run_campaigns(runtime),
        "interval",
        seconds=settings.campaigns.tick_seconds,
    )
    return scheduler, leadership
