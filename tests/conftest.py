"""Fixtures: a migrated database per backend, the app, and a WeChat that talks to it.

Every test that uses ``app`` runs on SQLite, and again on PostgreSQL when
``TEST_DATABASE_URL`` is set (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import waitress
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from waitress import wasyncore

from bot import create_app
from bot.config import Settings, load_settings
from bot.fake_wechat import FakeWeChat, create_fake_app
from bot.outbox import Drainer
from bot.simulator import FlaskTransport, HttpTransport, Simulator
from bot.wechat.api import connect
from models import Base
from models.database import make_engine
from models.migrate import recreate
from models.seed import seed_catalogue

TOKEN = "testtoken123"
APP_ID = "wx1234567890abcdef"
APP_SECRET = "test-app-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SECRET_KEY = "test-secret-key-0123456789"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'unionbot-test.db'}"
    return os.environ["TEST_DATABASE_URL"]


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Iterator[str]:
    """The test database, emptied and migrated to head once per backend."""
    engine = make_engine(database_url)
    recreate(engine)
    engine.dispose()
    yield database_url


def empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (our own table names)


def make_settings(database_url: str, api_base_url: str = "", **sections) -> Settings:
    overrides = {
        "wechat": {"token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET},
        "database": {"url": database_url},
        "security": {"secret_key": SECRET_KEY},
        "scheduler": {"enabled": False},
    }
    if api_base_url:
        overrides["wechat"]["api_base_url"] = api_base_url
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_settings(env={}, overrides=overrides)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[tuple[FakeWeChat, str]]:
    """The fake WeChat API, served over real HTTP on loopback for the whole session."""
    fake = FakeWeChat(APP_ID, APP_SECRET)
    with live_server(create_fake_app(fake)) as url:
        yield fake, url


@pytest.fixture
def fake(fake_server) -> FakeWeChat:
    fake_server[0].reset()
    return fake_server[0]


@pytest.fixture
def make_app(migrated, fake_server, tmp_path):
    """Build an app on the test database; keyword sections override settings."""
    built = []

    def factory(**sections):
        sections.setdefault("outbox", {}).setdefault("media_dir", str(tmp_path / "media"))
        sections.setdefault("server", {}).setdefault("parked_dir", str(tmp_path / "parked"))
        app = create_app(make_settings(migrated, fake_server[1] + "/cgi-bin/", **sections))
        app.config["TESTING"] = True
        if not built:  # every test starts from empty tables and the seeded programmes
            runtime = app.extensions["unionbot"]
            empty_tables(runtime.engine)
            with runtime.session_factory.begin() as session:
                seed_catalogue(session)
        built.append(app)
        return app

    yield factory
    for app in built:
        app.extensions["unionbot"].engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


# Scripted workers answer like people who read each reply first: their messages are at
# least this far apart in CreateTime, so a repeated answer is never a double tap.
READING_SECONDS = 5


def simulator_for(app, **kwargs) -> Simulator:
    """WeChat's side of the callback for ``app``, through the Flask test client."""
    settings = app.extensions["unionbot"].settings.wechat
    kwargs.setdefault("pace_seconds", READING_SECONDS)
    return Simulator(settings, FlaskTransport(app.test_client()), **kwargs)


@pytest.fixture
def wechat(app) -> Simulator:
    """WeChat's side of the callback, in plaintext mode, through the Flask test client."""
    return simulator_for(app)


@pytest.fixture
def db(app) -> Iterator[Session]:
    """A session for asserting on rows the app wrote."""
    with app.extensions["unionbot"].session_factory() as session:
        yield session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(app, threads: int = 8) -> Iterator[str]:
    """Serve ``app`` over real HTTP on loopback; yield its base URL."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    stop = threading.Event()

    def serve() -> None:
        # The loop closes its own sockets: closing them from the test's thread while it
        # waits in select() fails there with EBADF (a browser keeps connections open).
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        wasyncore.close_all(server._map)
        server.task_dispatcher.shutdown()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=5)


@pytest.fixture
def live_wechat(app) -> Iterator[Simulator]:
    """WeChat's side of the callback over real HTTP to a running server."""
    with live_server(app) as base_url:
        yield Simulator(
            app.extensions["unionbot"].settings.wechat,
            HttpTransport(base_url),
            pace_seconds=READING_SECONDS,
        )


def backend_name(url: str) -> str:
    return make_url(url).get_backend_name()


@pytest.fixture
def api(app):
    """The app's WeChat API client, talking to the fake."""
    runtime = app.extensions["unionbot"]
    return connect(runtime.settings, runtime.session_factory)


@pytest.fixture
def drainer(app, api):
    return Drainer(app.extensions["unionbot"], api, rng=lambda: 0.5)
