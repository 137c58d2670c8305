"""Fixtures for driving handlers directly: a session on the migrated test database,
rolled back after each test, and the follower whose lock a delivery would hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import Settings
from models import Follower, crypto
from models.database import make_engine
from models.follower import lock_follower
from tests.conftest import make_settings

OPENID = "o-direct-handler-test"


@pytest.fixture
def settings(migrated: str) -> Settings:
    """The settings the app fixtures use, on the same migrated database."""
    settings = make_settings(migrated)
    # Drafts are encrypted at rest; create_app installs the key, and so must we.
    crypto.install(settings.security.keyring())
    return settings


@pytest.fixture(scope="session")
def engine(migrated: str) -> Iterator[Engine]:
    engine = make_engine(migrated)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine, settings: Settings) -> Iterator[Session]:
    """One delivery's transaction, never committed: each test leaves the database as it was."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


@pytest.fixture
def follower(session: Session) -> Follower:
    return lock_follower(session, OPENID)
