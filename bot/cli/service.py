"""Commands that run the service: serve, worker, drain, fake-wechat."""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import time

import click

from bot.cli.common import FAKE_MOUNT, config_option, prepare_database
from bot.config import WECHAT_API_BASE, Settings, load_settings
from bot.fake_wechat import FakeWeChat, create_fake_app
from bot.wechat.api import connect
from models.seed import DEMO_ADMIN


def _with_server(settings: Settings, host: str | None, port: int | None) -> Settings:
    server = dataclasses.replace(
        settings.server, host=host or settings.server.host, port=port or settings.server.port
    )
    return dataclasses.replace(settings, server=server)


def _demo_fake(settings: Settings) -> tuple[Settings, FakeWeChat | None]:
    """In demo mode with no real API configured, serve the fake WeChat beside the app."""
    if not settings.demo.enabled or settings.wechat.api_base_url != WECHAT_API_BASE:
        return settings, None
    wechat = dataclasses.replace(
        settings.wechat, api_base_url=f"{settings.base_url}{FAKE_MOUNT}/cgi-bin/"
    )
    fake = FakeWeChat(
        wechat.app_id, wechat.app_secret, custom_window_budget=settings.outbox.custom_window_budget
    )
    return dataclasses.replace(settings, wechat=wechat), fake


def _run_scheduler(runtime) -> tuple:
    from bot.scheduler import build_scheduler

    # The drain runs every second; APScheduler would log each run at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler, leadership = build_scheduler(runtime)
    scheduler.start()
    return scheduler, leadership


def _stop_scheduler(scheduler, leadership) -> None:
    scheduler.shutdown(wait=False)
    leadership.release()


@click.command()
@config_option
@click.option("--host", help="Address to listen on (overrides server.host).")
@click.option("--port", type=int, help="Port to listen on (overrides server.port).")
def serve(config_path: str | None, host: str | None, port: int | None) -> None:
    """Run the webhook, the admin and the scheduler in one process."""
    import waitress
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from bot import create_app

    logging.getLogger().setLevel(logging.INFO)
    settings, fake = _demo_fake(_with_server(load_settings(config_path), host, port))
    app = create_app(settings)
    runtime = app.extensions["unionbot"]
    prepare_database(settings, runtime.engine)
    wsgi = DispatcherMiddleware(app, {FAKE_MOUNT: create_fake_app(fake)}) if fake else app

    scheduled = _run_scheduler(runtime) if settings.scheduler.enabled else None
    base = settings.base_url
    click.echo(f"unionbot serving ({settings.source})")
    click.echo(f"  WeChat webhook: {base}/wechat")
    click.echo(f"  Admin:          {base}/admin/")
    click.echo(f"  Health:         {base}/healthz")
    if settings.demo.enabled:
        click.echo(f"  Demo sign-in:   {DEMO_ADMIN} / {settings.demo.admin_password}")
        click.echo(f"  Demo token:     {settings.wechat.token}  (try: unionbot chat --url {base})")
    if fake:
        click.echo(f"  Fake WeChat:    {base}{FAKE_MOUNT}/cgi-bin/")
        click.echo(f"  Calls to it:    {base}{FAKE_MOUNT}/_fake/  (JSON: {FAKE_MOUNT}/_fake/calls)")
    click.echo(f"  Scheduler:      {'running' if scheduled else 'disabled'}")
    sys.stdout.flush()
    try:
        waitress.serve(
            wsgi,
            host=settings.server.host,
            port=settings.server.port,
            threads=settings.server.threads,
            ident="unionbot",
            _quiet=True,
        )
    finally:
        if scheduled:
            _stop_scheduler(*scheduled)


@click.command()
@config_option
def worker(config_path: str | None) -> None:
    """Run the scheduler (outbox, jobs) without the web server."""
    from bot import create_app

    logging.getLogger().setLevel(logging.INFO)
    settings = load_settings(config_path)
    runtime = create_app(settings).extensions["unionbot"]
    prepare_database(settings, runtime.engine)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    scheduler, leadership = _run_scheduler(runtime)
    click.echo(f"unionbot worker {leadership.holder} running; Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        _stop_scheduler(scheduler, leadership)


@click.command()
@config_option
@click.option("--once", is_flag=True, help="Drain what is due now, then exit.")
def drain(config_path: str | None, once: bool) -> None:
    """Send due outbox messages (an extra drainer process).

    Safe beside other drainers on PostgreSQL; on SQLite run only one.
    """
    from bot import create_app
    from bot.outbox import Drainer

    settings = load_settings(config_path)
    runtime = create_app(settings).extensions["unionbot"]
    prepare_database(settings, runtime.engine)
    drainer = Drainer(runtime, connect(settings, runtime.session_factory))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        sent = drainer.drain_until_empty()
        if once:
            click.echo(f"drained {sent} messages")
            return
        time.sleep(settings.outbox.drain_interval_seconds)


@click.command("fake-wechat")
@config_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8081, show_default=True)
def fake_wechat(config_path: str | None, host: str, port: int) -> None:
    """Serve the fake WeChat API on loopback (for tests and demos)."""
    import waitress

    settings = load_settings(config_path)
    fake = FakeWeChat(
        settings.wechat.app_id,
        settings.wechat.app_secret,
        custom_window_budget=settings.outbox.custom_window_budget,
    )
    click.echo(f"fake WeChat API at http://{host}:{port}/cgi-bin/ (calls: /_fake/calls)")
    sys.stdout.flush()
    waitress.serve(create_fake_app(fake), host=host, port=port, threads=16, _quiet=True)
