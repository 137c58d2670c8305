"""Deliveries answered ``success`` before their reply was stored, kept on disk until it is.

When the reply budget runs out the webhook answers ``success`` and the work goes on in
the process's thread pool; WeChat will not send that message again. Until the
delivery's transaction commits, the message lives only in that process's memory: a
worker killed meanwhile (the OOM killer, a deploy that outlasts the graceful timeout,
a crash) would lose the message and its reply without a trace. Under a burst that
window lasts seconds (work queues behind the thread pool).

So before answering ``success`` without a stored reply, the webhook writes the
delivery to a file here (written to a temporary name and renamed, so a file is whole
or absent), and removes it once the delivery is stored. A web process that starts
(gunicorn replaces a killed worker at once) hands every file whose writer is gone to
the intake again, with the reply going out through the outbox. Handling a delivery
twice is harmless: the intake's key makes the second run return the stored reply,
so a file left by a live but slow process may also be taken early without harm.

A file, not a database row: on SQLite the slow delivery that ran out of budget holds
the write lock, and the ``success`` cannot wait for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

from handlers.messages import Inbound

log = logging.getLogger(__name__)


class Parking:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def park(self, key: str, inbound: Inbound) -> Path | None:
        """Keep the delivery until :meth:`release`; None when the disk refused (logged)."""
        record = {"key": key, "pid": os.getpid(), "inbound": asdict(inbound)}
        record["inbound"]["sent_at"] = inbound.sent_at.isoformat()
        path = self.directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, path)
        except OSError as error:
            log.error("cannot park delivery %s in %s: %s", key, self.directory, error)
            return None
        return path

    def release(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)

    def stranded(self) -> list[tuple[Path, str, Inbound]]:
        """The parked deliveries whose writing process is gone, oldest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json"), key=_age):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                if record["pid"] != os.getpid() and _alive(record["pid"]):
                    continue
                fields = dict(record["inbound"])
                fields["sent_at"] = dt.datetime.fromisoformat(fields["sent_at"])
                found.append((path, record["key"], Inbound(**fields)))
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.error("unreadable parked delivery %s: %s", path, error)
        return found


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
