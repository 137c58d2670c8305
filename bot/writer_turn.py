"""Deliveries on SQLite take turns on a file lock before they take the database's.

SQLite lets one transaction write at a time, and a delivery writes from its first
statement (``BEGIN IMMEDIATE``). A transaction that finds the database locked
waits in SQLite's busy handler, which polls with sleeps growing to 100 ms: under
load a waiting delivery slept long after the lock was free, the cores idled, and
the p99 of 16 connections reached 300–700 ms for deliveries of 4 ms. Here the
deliveries of every process queue on ``flock`` (and the threads of one process on
a mutex, since a lock held through one open file is shared by its threads), which
the kernel hands to the next waiter the moment it is released. Other writers (the
drainer, the admin) still meet SQLite's own lock, as before: this only orders the
deliveries among themselves. PostgreSQL locks rows, so nothing is needed there.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import URL

_guard = threading.Lock()
# Per process (a forked child must open its own file: a lock taken through the
# parent's open file would be shared with it) and database file.
_turns: dict[tuple[int, str], tuple[threading.Lock, int]] = {}


def _turn(path: str) -> tuple[threading.Lock, int] | None:
    key = (os.getpid(), path)
    with _guard:
        if key not in _turns:
            try:
                descriptor = os.open(f"{path}-deliveries.lock", os.O_CREAT | os.O_RDWR, 0o600)
            except OSError:
                # No place for the lock (say, the database's folder is gone): SQLite will
                # fail too, and that is a database error the webhook answers with 503.
                return None
            _turns[key] = (threading.Lock(), descriptor)
        return _turns[key]


@contextmanager
def writer_turn(url: URL) -> Iterator[None]:
    """Hold the deliveries' turn on the SQLite file at ``url``; nothing elsewhere."""
    memory = url.database in (None, "", ":memory:")
    sqlite = url.get_backend_name() == "sqlite"
    turn = _turn(os.path.abspath(url.database)) if sqlite and not memory else None
    if turn is None:
        yield
        return
    mutex, descriptor = turn
    with mutex:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
