"""Schema migrations through Alembic, driven from code (no alembic.ini needed to run them)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database schema to the newest migration."""
    command.upgrade(alembic_config(engine), "head")


def schema_status(engine: Engine) -> tuple[set[str], set[str]]:
    """Return (revisions in the database, newest revisions in the code)."""
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def schema_is_current(engine: Engine) -> bool:
    current, heads = schema_status(engine)
    return current == heads


def recreate(engine: Engine) -> None:
    """Drop every table and migrate from scratch. Destroys data: tests and benchmarks only."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        # Foreign keys off, so tables can go in any order (dropping one that references a
        # table already gone fails otherwise). The pragma is ignored inside a transaction,
        # hence the driver's own connection, which runs each statement on its own.
        raw = engine.raw_connection()
        try:
            raw.execute("PRAGMA foreign_keys=OFF")
            tables = raw.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            for (name,) in tables:
                if not name.startswith("sqlite_"):
                    raw.execute(f'DROP TABLE "{name}"')
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
            raw.close()
    upgrade(engine)
