"""On SQLite a delivery holds the deliveries' turn (a file lock) for its whole transaction,
so deliveries in other processes queue on the kernel's lock, not on SQLite's polling."""

from __future__ import annotations

import fcntl

import pytest
from sqlalchemy.engine import make_url

import handlers
from handlers import Text
from tests.conftest import simulator_for


def turn_is_free(path: str) -> bool:
    """Whether another process could take the turn now (a fresh open file, as theirs is)."""
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(lock, fcntl.LOCK_UN)
        return True


def test_a_delivery_holds_the_turn_while_it_is_handled(app, monkeypatch):
    url = make_url(app.extensions["unionbot"].settings.database.url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks the follower's row instead")
    path = f"{url.database}-deliveries.lock"
    seen = []

    def probe(message, state):
        seen.append(turn_is_free(path))
        return [Text("好的")]

    monkeypatch.setattr(handlers, "route", lambda message, state: probe)
    assert simulator_for(app).send_text("o_turn", "你好").text == "好的"
    assert seen == [False]  # held while the handler ran
    assert turn_is_free(path)  # and given back with the commit
