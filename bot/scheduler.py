"""The in-process scheduler that ``unionbot serve`` runs beside the web server.

Exactly one scheduler may run per deployment: never one per gunicorn worker
and never under a reloader, because APScheduler 3 has no cross-process lock.
"""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from bot import Runtime, jobs


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler.add_job(
        jobs.purge_old_transcripts,
        "cron",
        hour=3,
        minute=17,
        args=[runtime],
        id="purge_old_transcripts",
        coalesce=True,
        max_instances=1,
    )
    return scheduler
