"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models import Base
from models.database import make_engine
from models.migrate import recreate, schema_is_current


def test_migrated_schema_matches_the_models(migrated):
    engine = make_engine(migrated)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert schema_is_current(engine)
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_a_used_sqlite_database_can_be_emptied_and_migrated_again(tmp_path):
    """The benchmarks start from ``recreate`` on a database an earlier run left behind."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    recreate(engine)
    recreate(engine)  # tables referencing tables already dropped must not stop it
    assert schema_is_current(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
