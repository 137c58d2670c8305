"""The engine's pool on PostgreSQL: idle connections are checked, busy ones are not."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models import database
from models.database import make_engine


@pytest.fixture
def postgres(migrated: str) -> str:
    if not migrated.startswith("postgresql"):
        pytest.skip("SQLite has no connection to lose")
    return migrated


@pytest.fixture
def engine(postgres):
    """One pooled connection, so every checkout is the same connection record."""
    engine = make_engine(postgres, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _pings(engine) -> list[object]:
    pings: list[object] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    engine.dialect.do_ping = counted
    return pings


def test_a_connection_killed_while_idle_is_replaced_before_use(engine, postgres, monkeypatch):
    killed = _backend(engine)
    admin = make_engine(postgres)
    with admin.connect() as connection:  # the server drops it, as on a restart
        # Waits (up to 5 s) until the backend is gone, so the ping cannot come first.
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": killed})
    admin.dispose()
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)

    assert _backend(engine) != killed  # no error: the dead connection was pinged and replaced


def test_a_connection_in_steady_use_costs_no_ping(engine):
    pings = _pings(engine)
    backends = {_backend(engine) for _ in range(20)}

    assert len(backends) == 1 and pings == []


def test_a_connection_idle_past_the_window_is_pinged_once(engine, monkeypatch):
    pings = _pings(engine)
    _backend(engine)
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    _backend(engine)

    assert len(pings) == 1
