"""Engines and sessions, with the per-database settings unionbot relies on."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# Execution option naming a transaction that must take SQLite's write lock up
# front. Without it a deferred transaction that reads first and writes later can
# fail with "database is locked" instead of waiting, and two deliveries for one
# worker could both read the same conversation state before either writes.
SQLITE_IMMEDIATE = "unionbot_sqlite_immediate"


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine for ``url`` (SQLite or PostgreSQL) with unionbot's settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    return create_engine(url, pool_pre_ping=True, **kwargs)


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
