"""Engines and sessions, with the per-database settings unionbot relies on."""

from __future__ import annotations

import time

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

# Execution option naming a transaction that must take SQLite's write lock up
# front. Without it a deferred transaction that reads first and writes later can
# fail with "database is locked" instead of waiting, and two deliveries for one
# worker could both read the same conversation state before either writes.
SQLITE_IMMEDIATE = "unionbot_sqlite_immediate"

# A pooled PostgreSQL connection back in use within this many seconds is taken as
# alive; one idle for longer is pinged before it is handed out (HikariCP's
# aliveBypassWindowMs, 500 ms there). pool_pre_ping pinged at every checkout: one
# more round trip for every webhook message, about 5 % of its time, to guard against
# what a connection in steady use would already have shown. A connection that dies
# while in use fails its statement, which is transient: the delivery is rolled back
# and WeChat retries it, and SQLAlchemy replaces the pool's connections.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "unionbot.idle_since"


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for ``url`` (SQLite or PostgreSQL) with unionbot's settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The server went away (a restart, a failover): the pool drops every connection
            # it holds, as pool_pre_ping did, and hands out a new one.
            raise InvalidatePoolError("idle connection is gone") from error


def _sqlite_engine(url: str, **kwargs) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Hand transaction control to SQLAlchemy (the pysqlite driver's own
        # BEGIN handling cannot issue BEGIN IMMEDIATE), then set the pragmas.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def serialised(session_factory: sessionmaker[Session]) -> Session:
    """Open a session whose transaction holds the SQLite write lock from its first statement.

    On PostgreSQL this is an ordinary session; row locks do the serialising there.
    """
    engine = session_factory.kw["bind"]
    return session_factory(bind=engine.execution_options(**{SQLITE_IMMEDIATE: True}))
