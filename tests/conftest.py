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

from bot import create_app
from bot.config import Settings, load_settings
from bot.simulator import FlaskTransport, HttpTransport, Simulator
from models import Base
from models.database import make_engine
from models.migrate import upgrade

TOKEN = "testtoken123"
APP_ID = "wx1234567890abcdef"
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
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
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


def make_settings(database_url: str, **sections) -> Settings:
    overrides = {
        "wechat": {"token": TOKEN, "app_id": APP_ID},
        "database": {"url": database_url},
        "security": {"secret_key": SECRET_KEY},
        "scheduler": {"enabled": False},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_settings(env={}, overrides=overrides)


@pytest.fixture
def make_app(migrated):
    """Build an app on the test database; keyword sections override settings."""
    built = []

    def factory(**sections):
        app = create_app(make_settings(migrated, **sections))
        app.config["TESTING"] = True
        built.append(app)
        return app

    yield factory
    for app in built:
        app.extensions["unionbot"].engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    empty_tables(app.extensions["unionbot"].engine)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def simulator_for(app, **kwargs) -> Simulator:
    """WeChat's side of the callback for ``app``, through the Flask test client."""
    settings = app.extensions["unionbot"].settings.wechat
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
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def live_wechat(app) -> Iterator[Simulator]:
    """WeChat's side of the callback over real HTTP to a running server."""
    with live_server(app) as base_url:
        yield Simulator(app.extensions["unionbot"].settings.wechat, HttpTransport(base_url))


def backend_name(url: str) -> str:
    return make_url(url).get_backend_name()
