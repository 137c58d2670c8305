"""Deliveries answered ``success`` before their reply was stored, kept on disk until it is.

When the reply budget runs out the webhook answers ``success`` and the work goes on in
the process's thread pool; WeChat will not send that message again. Until the
delivery's transaction commits, the message lives only in that process's memory: a
worker killed meanwhile (the OOM killer, a deploy that outlasts the graceful timeout,
a crash) would lose the message and its reply without a trace. Under a burst that
window lasts seconds (work queues behind the thread pool).

So before answering ``success`` without a stored reply, the webhook writes the
delivery to a file here (written to a temporary name and renamed, so a file is whole
or absent), and removes it once the delivery is stored. A web process, with the first
message it takes (gunicorn replaces a killed worker at once, and WeChat's traffic
reaches the new one), hands every file whose writer is gone to the intake again, with
the reply going out through the outbox. Not when the app is built: the CLI's one-shot
commands build it too, and before they migrate the database. Handling a delivery
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
import secrets
import threading
from dataclasses import asdict
from pathlib import Path

from handlers.messages import Inbound
from models import crypto

log = logging.getLogger(__name__)


class Parking:
    """Parked deliveries of one installation (its WeChat account and database) on disk.

    The records hold what workers typed (ID numbers, illnesses): they are encrypted
    with the data key, as the database's copies are, and readable by their owner only.
    """

    def __init__(self, directory: str | Path, installation: str):
        self.directory = Path(directory)
        self.installation = hashlib.sha256(installation.encode()).hexdigest()[:16]
        self._looked = False
        self._looking = threading.Lock()

    def park(self, key: str, inbound: Inbound) -> Path | None:
        """Keep the delivery until :meth:`release`; None when the disk refused (logged)."""
        fields = asdict(inbound) | {"sent_at": inbound.sent_at.isoformat()}
        record = {"key": key, "installation": self.installation, "inbound": fields}
        sealed = crypto.keyring().encrypt(json.dumps(record, ensure_ascii=False))
        # One file per copy: a WeChat retry parks its own, and releasing one copy's
        # file never drops another's.
        name = hashlib.sha256(key.encode()).hexdigest()[:24] + "-" + secrets.token_hex(4)
        path = self.directory / f"{name}.{os.getpid()}.parked"
        temporary = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(sealed)
            os.replace(temporary, path)
        except OSError as error:
            log.error("cannot park delivery %s in %s: %s", key, self.directory, error)
            return None
        return path

    def release(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)

    def stranded_once(self) -> list[tuple[Path, str, Inbound]]:
        """:meth:`stranded` the first time this process asks, then nothing."""
        if self._looked:
            return []
        with self._looking:
            if self._looked:
                return []
            self._looked = True
        return self.stranded()

    def stranded(self) -> list[tuple[Path, str, Inbound]]:
        """This installation's parked deliveries whose writing process is gone, oldest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.parked"), key=_age):
            writer = int(path.suffixes[-2].lstrip(".")) if len(path.suffixes) > 1 else 0
            if writer != os.getpid() and _alive(writer):
                continue
            try:
                record = json.loads(crypto.keyring().decrypt(path.read_text(encoding="utf-8")))
                if record["installation"] != self.installation:
                    continue  # another account or database keeps its parked files here
                fields = dict(record["inbound"])
                fields["sent_at"] = dt.datetime.fromisoformat(fields["sent_at"])
                found.append((path, record["key"], Inbound(**fields)))
            except Exception as error:  # unreadable, another data key, a torn file
                log.error("cannot resume parked delivery %s: %s", path, error)
        return found


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
