"""The ``unionbot`` command."""

from __future__ import annotations

import base64
import dataclasses
import logging
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.config import WECHAT_API_BASE, ConfigError, Settings, decode_data_key, load_settings
from bot.fake_wechat import FakeWeChat, create_fake_app
from bot.simulator import Answer, FlaskTransport, HttpTransport, Simulator
from bot.wechat.api import ApiError, connect
from handlers.flows import UnknownFlow
from handlers.menu import MENU_KEYS, MENU_LAYOUT
from models import crypto
from models.aid import AidProgramme, get_programme, programmes
from models.audit import audit
from models.data_sync import RowSync
from models.database import make_engine, make_session_factory, serialised
from models.migrate import schema_status, upgrade
from models.seed import DATA, DEMO_ADMIN, report_lines, seed_catalogue, seed_demo
from models.staff import find_staff, upsert_staff
from models.windows import parse_month_day


class Fatal(click.ClickException):
    """A one-line reason to stop, printed without a traceback."""

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        click.echo(f"unionbot: {self.message}", err=True)


class UnionbotGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise Fatal(f"config error: {exc}") from None
        except crypto.DataKeyError as exc:
            raise Fatal(f"data key error: {exc}") from None
        except UnknownFlow as exc:
            raise Fatal(str(exc)) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise Fatal(f"cannot use the database: {reason}") from None


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FAKE_MOUNT = "/fake-wechat"

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="UNIONBOT_CONFIG",
    help="Path to the TOML config (default: $UNIONBOT_CONFIG, else the built-in demo).",
)


def prepare_database(settings: Settings, engine: Engine, data_dir: Path = DATA) -> list[RowSync]:
    """Demo: migrate and seed (the catalogue from ``data_dir``), and return what the seed
    changed. Otherwise refuse to run on an outdated schema, and change nothing.

    Either way, refuse a data key that cannot read what the database holds.
    """
    keyring = settings.security.keyring()
    crypto.install(keyring)  # a migration may encrypt rows it rewrites
    if settings.demo.enabled:
        upgrade(engine)
        crypto.verify(engine, keyring)
        with serialised(make_session_factory(engine)) as session, session.begin():
            return seed_demo(session, settings.demo.admin_password, data_dir)
    current, heads = schema_status(engine)
    if current != heads:
        at = ", ".join(sorted(current)) or "empty"
        raise Fatal(
            f"database schema is outdated (at {at}, needs {', '.join(sorted(heads))}); "
            "run: unionbot init-db"
        )
    crypto.verify(engine, keyring)
    return []


@click.group(cls=UnionbotGroup)
def main() -> None:
    """WeChat official-account backend of the county trade union."""
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)


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


@main.command()
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


@main.command()
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


@main.command()
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


@main.command("fake-wechat")
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


@main.command("push-menu")
@config_option
def push_menu(config_path: str | None) -> None:
    """Create the account's custom menu through the WeChat API."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine)
    unknown = {item["key"] for top in MENU_LAYOUT["button"] for item in top["sub_button"]} - set(
        MENU_KEYS
    )
    if unknown:
        raise Fatal(f"menu keys the router does not know: {', '.join(sorted(unknown))}")
    api = connect(settings, make_session_factory(engine))
    try:
        api.create_menu(MENU_LAYOUT)
    except ApiError as exc:
        raise Fatal(f"WeChat refused the menu: {exc}") from None
    click.echo("menu created: " + " | ".join(top["name"] for top in MENU_LAYOUT["button"]))


@main.command("init-db")
@config_option
def init_db(config_path: str | None) -> None:
    """Create or upgrade the database schema (Alembic), then sync the data files."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    keyring = settings.security.keyring()
    crypto.install(keyring)
    upgrade(engine)
    crypto.verify(engine, keyring)
    with serialised(make_session_factory(engine)) as session, session.begin():
        if settings.demo.enabled:
            reports = seed_demo(session, settings.demo.admin_password)
        else:
            reports = seed_catalogue(session)
    for line in report_lines(reports):
        click.echo(line)
    current, _ = schema_status(engine)
    click.echo(f"database ready at revision {', '.join(sorted(current))}")


@main.command("sync-data")
@config_option
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DATA,
    show_default="the files shipped in models/data",
    help="Directory holding aid_programmes.toml, competitions.toml, benefits.toml, fields.toml.",
)
def sync_data(config_path: str | None, data_dir: Path) -> None:
    """Bring changed forms, prompts, privacy notices and other data-file values into the
    database, keeping every value staff changed; say what changed."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    reports = prepare_database(settings, engine, data_dir)  # the demo syncs here already
    with serialised(make_session_factory(engine)) as session, session.begin():
        reports += seed_catalogue(session, data_dir)
    for line in report_lines(reports) or [
        "nothing changed: the database has what the data files say"
    ]:
        click.echo(line)


def window_asked(
    opens: str | None, closes: str | None, all_year: bool
) -> tuple[str | None, str | None] | None:
    """The window the options ask for, (None, None) meaning all year; None to only show it.

    Dates go through the admin's parser, so a day no year has (04-31) is refused here
    instead of breaking every later 帮扶."""
    if all_year:
        if opens or closes:
            raise Fatal("give --opens and --closes, or --all-year, not both")
        return None, None
    if not opens and not closes:
        return None
    if not opens or not closes:
        raise Fatal("give both --opens and --closes as MM-DD, or --all-year")
    days = []
    for option, value in (("--opens", opens), ("--closes", closes)):
        day = parse_month_day(value)
        if day is None:
            raise Fatal(f"{option} {value!r} is not a day of the year; give MM-DD, e.g. 11-01")
        days.append(day)
    return days[0], days[1]


def window_text(opens: str | None, closes: str | None) -> str:
    return f"{opens} to {closes}" if opens else "all year"


@main.command("aid-window")
@config_option
@click.argument("code")
@click.option("--opens", metavar="MM-DD", help="First day applications are taken each year.")
@click.option("--closes", metavar="MM-DD", help="Last day (may be before --opens: wraps the year).")
@click.option("--all-year", is_flag=True, help="Take applications all year.")
def aid_window(config_path, code, opens, closes, all_year) -> None:
    """Show or change when an aid programme takes applications (e.g. open 金秋助学 early).

    A changed window is audited and, differing from the data file, kept by sync-data."""
    asked = window_asked(opens, closes, all_year)
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine)
    with serialised(make_session_factory(engine)) as session, session.begin():
        programme = get_programme(session, code)
        if programme is None:
            known = ", ".join(p.code for p in programmes(session, active_only=False))
            raise Fatal(f"no aid programme {code!r} (known: {known})")
        shown = window_text(programme.opens, programme.closes)
        if asked is not None and asked != (programme.opens, programme.closes):
            change_window(session, programme, asked)
            shown = f"{window_text(*asked)} (was {shown})"
        click.echo(f"{programme.code} ({programme.name}): {shown}")


def change_window(
    session: Session, programme: AidProgramme, window: tuple[str | None, str | None]
) -> None:
    """Set the window and audit it as the admin does, by column name."""
    changed = [
        name
        for name, value in zip(("opens", "closes"), window, strict=True)
        if getattr(programme, name) != value
    ]
    programme.opens, programme.closes = window
    audit(session, "system", "edit", programme.code, ",".join(changed))


@main.command("add-staff")
@config_option
@click.argument("username")
@click.option(
    "--name", "display_name", help="Name shown in the admin (new accounts: the username)."
)
@click.option(
    "--role",
    type=click.Choice(["admin", "reviewer"]),
    help="What the account may do (new accounts: reviewer).",
)
@click.password_option(help="Password (prompted for when omitted).")
def add_staff(config_path, username, display_name, role, password) -> None:
    """Create a staff account for the admin, or reset its password.

    Resetting a password keeps the account's name and role unless they are given, so
    an administrator who forgot a password is not demoted."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine)
    if len(password) < 10:
        raise Fatal("password must be at least 10 characters")
    with make_session_factory(engine).begin() as session:
        existing = find_staff(session, username)
        role = role or (existing.role if existing else "reviewer")
        display_name = display_name or (existing.display_name if existing else username)
        upsert_staff(session, username, password, display_name, role)
    click.echo(f"staff account {username!r} ready ({role})")


@main.command("gen-key")
@click.option(
    "--index-of",
    metavar="DATA_KEY",
    help="Instead, print the index_key to pin before rotating away from DATA_KEY.",
)
def gen_key(index_of: str | None) -> None:
    """Print new secret_key and data_key values."""
    if index_of:
        try:
            ring = crypto.Keyring(current=decode_data_key(index_of))
        except ValueError as exc:
            raise Fatal(f"--index-of {exc}") from None
        click.echo(f'index_key = "{base64.urlsafe_b64encode(ring.lookup_key).decode()}"')
        return
    click.echo(f'secret_key = "{secrets.token_urlsafe(32)}"')
    click.echo(f'data_key = "{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"')


@main.command()
@config_option
def reencrypt(config_path: str | None) -> None:
    """Rewrite every encrypted value under the current data_key (after a key rotation)."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine)
    changed = crypto.reencrypt(engine, settings.security.keyring())
    click.echo(f"re-encrypted {changed} values under data key {crypto.keyring().current_id}")


CHAT_HELP = """命令：/图片  /位置 地名  /语音 文字  /点击 菜单键  /取消关注  /关注  /退出
菜单键：AID COMPETITION BENEFITS MINE STAFF HELP"""


@main.command()
@config_option
@click.option("--openid", default="o_chat_demo_worker", show_default=True, help="Who you are.")
@click.option("--url", help="Talk to a running server (e.g. http://127.0.0.1:8000) over HTTP.")
def chat(config_path: str | None, openid: str, url: str | None) -> None:
    """Talk to the bot in the terminal as a worker.

    Every line goes through the real webhook, signed (and encrypted in safe mode).
    """
    settings = load_settings(config_path)
    if url:
        transport = HttpTransport(url)
    else:
        from bot import create_app

        app = create_app(settings)
        prepare_database(settings, app.extensions["unionbot"].engine)
        transport = FlaskTransport(app.test_client())
    simulator = Simulator(settings.wechat, transport)
    run_chat(simulator, openid, sys.stdin, click.echo, interactive=sys.stdin.isatty())


def run_chat(
    simulator: Simulator,
    openid: str,
    lines: TextIO,
    echo: Callable[[str], None],
    interactive: bool,
) -> None:
    """Deliver each line as the worker ``openid`` would and print the bot's answers."""
    echo(f"以职工 {openid} 的身份与服务号对话（{'加密' if simulator.encrypt else '明文'}模式）。")
    echo(CHAT_HELP)
    _show(simulator.send_event(openid, "subscribe"), echo)
    while True:
        if interactive:
            echo("我> ", nl=False)
        line = lines.readline()
        if not line:
            break
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if line.strip() in ("/退出", "/quit", "/exit"):
            break
        _show(_send_line(simulator, openid, line), echo)


# Chat commands that send a media or location message: command → (MsgType, its fields).
MESSAGE_COMMANDS: dict[str, tuple[str, Callable[[str, int], dict]]] = {
    "/图片": (
        "image",
        lambda rest, n: {"PicUrl": "http://mmbiz.qpic.cn/demo.jpg", "MediaId": f"demo_media_{n}"},
    ),
    "/位置": (
        "location",
        lambda rest, n: {
            "Location_X": 33.7746,
            "Location_Y": 120.2547,
            "Scale": 15,
            "Label": rest or "射阳县合德镇",
        },
    ),
    "/语音": (
        "voice",
        lambda rest, n: {"MediaId": f"demo_voice_{n}", "Format": "amr", "Recognition": rest},
    ),
}
EVENT_COMMANDS = {"/点击": "CLICK", "/取消关注": "unsubscribe", "/关注": "subscribe"}


def _send_line(simulator: Simulator, openid: str, line: str) -> Answer:
    command, _, rest = line.strip().partition(" ")
    if command in MESSAGE_COMMANDS:
        kind, fields = MESSAGE_COMMANDS[command]
        msg_id = simulator.next_msg_id()
        return simulator.deliver(simulator.xml(openid, kind, **fields(rest, msg_id), MsgId=msg_id))
    if command in EVENT_COMMANDS:
        event = EVENT_COMMANDS[command]
        return simulator.send_event(
            openid, event, rest.strip().upper() if event == "CLICK" else None
        )
    return simulator.send_text(openid, line)


def _show(answer: Answer, echo: Callable[..., None]) -> None:
    if answer.status != 200:
        echo(f"[HTTP {answer.status}] {answer.body.decode(errors='replace')}")
    elif answer.text:
        echo("工会> " + answer.text.replace("\n", "\n      "))
    else:
        echo("（无回复）")
