"""Drain the outbox: claim due rows, send them to WeChat, record each result as it comes back.

A drainer keeps at most ``send_concurrency`` sends in flight, one a thread: it
claims rows as send threads free up and writes the results that came back in
the same short transaction. A worker's notices leave in the order they were
queued, one after another on one thread (:mod:`bot.outbox_groups`). So a
drainer that dies duplicates at most the sends it had in flight, and only those
(with the notices queued behind them) wait for their lease (``sending``) to run
out before any drainer takes them again; a row taken that way is counted as
``uncertain``, as is a send that timed out after the request went out. On
PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several drainers on several machines
take disjoint rows. Results are written only while the row is still ours
(``status = 'sending'``).

WeChat's errors: token errors are retried once with a new token (in
:mod:`bot.wechat.api`); busy and frequency errors and network failures back off
exponentially (capped, with jitter) until the row's deadline, then it is
``failed``; a photo given up is recorded and the worker asked to send it again.
While an API's circuit breaker is open its rows wait without being charged a
try. A worker who unfollowed or an invalid openid kills the row and marks the
follower; a closed 48-hour window or a spent quota falls back to the next channel.
Every row that ends ``dead`` or ``failed`` keeps its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot import Runtime
from bot.channels import Channels, Claimed, Context, Outcome
from bot.outbox_groups import Sent, in_groups, send_in_order
from bot.rate_limits import Permits
from bot.wechat.api import ApiError, BreakerOpen, TokenUnavailable, WeChatApi
from models.alerts import raise_alert, resolve_alert
from models.base import utcnow
from models.database import serialised
from models.follower import Follower
from models.media import give_up_download, record_media
from models.outbox import (
    DEAD,
    FAILED,
    MASS,
    MEDIA,
    NOTICE,
    PENDING,
    SENDING,
    SENT,
    OutboxMessage,
    claim_due,
)

log = logging.getLogger(__name__)

UNREACHABLE = {43004: "未关注公众号 (43004)", 40003: "openid 无效 (40003)"}
MEDIA_EXPIRED = 40007
TOKEN_WAIT = dt.timedelta(seconds=30)
# How often a drainer looks for a token alert another process raised, to resolve it.
ALERT_CHECK_SECONDS = 30.0


class Drainer:
    """Sends due outbox rows. Safe to run in several processes at once."""

    def __init__(
        self,
        runtime: Runtime,
        api: WeChatApi,
        *,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.runtime = runtime
        self.settings = runtime.settings
        self.api = api
        self.rng = rng
        self.clock = clock
        self.permits = Permits(runtime, clock=lambda: clock().timestamp())
        self.channels = Channels(runtime, api, self.permits, clock)
        self.pool = ThreadPoolExecutor(
            runtime.settings.outbox.send_concurrency, thread_name_prefix="drain"
        )
        self.token_alert = False  # this drainer raised the token alert
        self.alert_checked = -ALERT_CHECK_SECONDS

    def close(self) -> None:
        """Stop the send threads and close the connections to WeChat."""
        self.pool.shutdown(wait=True)
        self.api.close()

    # -- claiming and recording -----------------------------------------------------------

    def claim(self, limit: int | None = None) -> list[Claimed]:
        """Take up to ``limit`` due rows (default ``batch_size``) in a transaction of their own."""
        with serialised(self.runtime.session_factory) as session, session.begin():
            return self._claim(session, limit or self.settings.outbox.batch_size, self.clock())

    def _claim(self, session: Session, limit: int, now: dt.datetime) -> list[Claimed]:
        lease = now + dt.timedelta(seconds=self.settings.outbox.lease_seconds)
        rows = claim_due(session, now, limit, lease)
        for r in rows:
            if r.status == SENDING and r.channel == NOTICE:
                log.warning("outbox row %s: lease ran out while sending; may be sent twice", r.id)
        return [
            Claimed(
                r.id,
                r.channel,
                r.kind,
                r.follower_id,
                r.recipient,
                dict(r.payload),
                r.attempts + 1,
                r.created_at,
                r.expires_at,
            )
            for r in rows
        ]

    def drain_once(self) -> int:
        """Send up to ``batch_size`` due rows; return how many were taken.

        At most ``send_concurrency`` sends are in flight at a time. A step writes the
        results that came back and claims rows for the free send threads, in one
        transaction, once half of the threads are free. A worker's notices go in
        order, one after another on one thread (:mod:`bot.outbox_groups`), so a
        thread may hold several rows.
        """
        o = self.settings.outbox
        # A step per returning send would cost a transaction per row, each slowed by
        # the send threads holding the GIL; a step only when all are free would
        # idle them while the slowest send finishes.
        refill = max(1, o.send_concurrency // 2)
        context = Context()
        running: set[Future[Sent]] = set()  # a group of rows each
        finished: Sent = []
        taken, more = 0, True
        while True:
            left = o.batch_size - taken
            free = min(o.send_concurrency - len(running), left) if more else 0
            if not running or (free and free >= min(refill, left)):
                claimed = self._step(finished, free, context)
                finished = []
                if len(claimed) < free:  # nothing more is due now
                    more = False
                # Rate-limit permits are taken for what this drain may still send.
                remaining = o.batch_size - taken
                taken += len(claimed)
                send = partial(self.send, context=context)
                for group in in_groups(claimed):
                    running.add(self.pool.submit(send_in_order, group, send, remaining))
                    remaining -= len(group)
                if claimed:  # a worker's notices share a thread: half may still be free
                    continue
            if not running:
                return taken
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                finished += future.result()

    def _step(self, finished: Sent, want: int, context: Context) -> list[Claimed]:
        """Write ``finished`` and claim ``want`` more rows, in one transaction."""
        now = self.clock()
        with serialised(self.runtime.session_factory) as session, session.begin():
            if finished:
                self._record(session, finished, now)
            claimed = self._claim(session, want, now) if want else []
            if claimed:
                context.load(session, claimed, self.settings.outbox.subscribe_templates)
        return claimed

    def drain_until_empty(self, timeout: float = 30.0) -> int:
        """Drain until nothing is due (tests, the CLI and benchmarks)."""
        total, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            taken = self.drain_once()
            if not taken:
                break
            total += taken
        return total

    def record(self, results: Sent) -> None:
        """Write each row's outcome in a transaction of its own."""
        with serialised(self.runtime.session_factory) as session, session.begin():
            self._record(session, results, self.clock())

    def _record(self, session: Session, results: Sent, now: dt.datetime) -> None:
        """Write each row's outcome, while the row is still ours (``sending``).

        Rows with the same outcome are written by one UPDATE, so a step costs a
        handful of statements, not one per row.
        """
        groups: dict[tuple, list[int]] = {}
        for row, outcome in results:
            if outcome.status in (DEAD, FAILED):
                log.warning("outbox row %s %s: %s", row.id, outcome.status, outcome.error)
                if row.channel == MEDIA and row.payload.get("media_id"):
                    self._give_up_photo(session, row, outcome, now)
                    continue
            groups.setdefault(self._values(outcome, now), []).append(row.id)
        for values, ids in groups.items():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING)
                .values(**dict(values))
            )
        if any(outcome.status == SENT for _, outcome in results) and self._look_for_alert():
            resolve_alert(session, "access_token")
        for row, outcome in results:
            if outcome.status == DEAD and outcome.code in UNREACHABLE and row.follower_id:
                follower = session.get(Follower, row.follower_id)
                follower.unreachable_reason = UNREACHABLE[outcome.code]
                if outcome.code == 43004:
                    follower.subscribed = False

    def _look_for_alert(self) -> bool:
        """After a success, whether to resolve the token alert: at once if this drainer
        raised it, else now and then (another process may have)."""
        now = time.monotonic()
        if self.token_alert or now >= self.alert_checked + ALERT_CHECK_SECONDS:
            self.token_alert, self.alert_checked = False, now
            return True
        return False

    def _give_up_photo(
        self, session: Session, row: Claimed, outcome: Outcome, now: dt.datetime
    ) -> None:
        """End a download for good: the proof shows it, and the worker is asked again."""
        written = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == SENDING)
            .values(**dict(self._values(outcome, now)))
        )
        if written.rowcount:
            give_up_download(
                session,
                media_id=row.payload["media_id"],
                follower_id=row.follower_id,
                received_at=row.created_at,
                reason=outcome.error or "",
                hotline=self.settings.union.hotline,
                now=now,
            )

    @staticmethod
    def _values(outcome: Outcome, now: dt.datetime) -> tuple:
        values: dict[str, Any] = {
            "status": outcome.status,
            "lease_expires_at": None,
            "last_error_code": outcome.code,
            "last_error": outcome.error,
        }
        if outcome.status == SENT:
            values.update(sent_at=now, sent_via=outcome.via, wechat_msgid=outcome.msgid or None)
        if outcome.retry_at:
            values["next_attempt_at"] = outcome.retry_at
        if outcome.refund_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        if outcome.uncertain:
            values["uncertain"] = OutboxMessage.uncertain + 1
        return tuple(values.items())

    # -- sending --------------------------------------------------------------------------

    def deadline(self, row: Claimed) -> dt.datetime:
        """When the row stops being worth trying: its own deadline, else its kind's."""
        o = self.settings.outbox
        if row.channel == MEDIA:  # WeChat deletes the photo then, whatever the row says
            limit = row.created_at + dt.timedelta(hours=o.media_deadline_hours)
            return min(limit, row.expires_at) if row.expires_at else limit
        if row.expires_at:
            return row.expires_at
        return row.created_at + dt.timedelta(hours=o.deadline_hours_for(row.kind))

    def send(self, row: Claimed, remaining: int = 1, context: Context | None = None) -> Outcome:
        deadline = self.deadline(row)
        if self.clock() >= deadline:
            return Outcome(
                FAILED,
                error=f"not sent by its deadline {deadline:%Y-%m-%d %H:%M} UTC",
                refund_attempt=True,
            )
        outcome = self._send(row, remaining, context)
        if outcome.status == PENDING and outcome.retry_at and outcome.retry_at >= deadline:
            tries = row.attempts - outcome.refund_attempt
            return Outcome(
                FAILED,
                code=outcome.code,
                error=f"{outcome.error} (gave up at its deadline "
                f"{deadline:%Y-%m-%d %H:%M} UTC after {tries} tries)",
                refund_attempt=outcome.refund_attempt,
                uncertain=outcome.uncertain,
            )
        return outcome

    def _send(self, row: Claimed, remaining: int, context: Context | None) -> Outcome:
        try:
            if row.channel == NOTICE:
                return self.channels.notice(row, remaining, context or self._context([row]))
            if row.channel == MASS:
                return self.channels.mass(row)
            if row.channel == MEDIA:
                return self._download(row, remaining)
            return Outcome(DEAD, error=f"unknown channel {row.channel!r}")
        except BreakerOpen as exc:  # WeChat is down: wait for the probe, not charged a try
            return Outcome(PENDING, error=str(exc), retry_at=exc.retry_at, refund_attempt=True)
        except TokenUnavailable as exc:
            with serialised(self.runtime.session_factory) as session, session.begin():
                raise_alert(session, "access_token", f"无法获取 access_token：{exc}")
            self.token_alert = True
            return Outcome(
                PENDING,
                code=exc.code,
                error=str(exc),
                retry_at=self.clock() + TOKEN_WAIT,
                refund_attempt=True,
            )
        except ApiError as exc:
            return self._failure(row, exc)
        except OperationalError as exc:
            # The database, not the row, failed (a lock timeout, a restart): try again
            # later with backoff, as for a network error.
            log.warning("outbox row %s: database unavailable: %s", row.id, exc.orig)
            return self._failure(row, ApiError(None, f"数据库暂时不可用：{exc.orig}"))
        except Exception as exc:
            # A bug or a malformed row must not stall the drain and come back after
            # every lease: the row ends dead, with the reason, for staff to see.
            log.exception("outbox row %s could not be sent", row.id)
            return Outcome(DEAD, error=f"内部错误：{type(exc).__name__}: {exc}")

    def _context(self, rows: list[Claimed]) -> Context:
        context = Context()
        with self.runtime.session_factory() as session:
            context.load(session, rows, self.settings.outbox.subscribe_templates)
        return context

    def _failure(self, row: Claimed, exc: ApiError) -> Outcome:
        if exc.code in UNREACHABLE:
            return Outcome(DEAD, code=exc.code, error=UNREACHABLE[exc.code])
        if exc.outage:  # retried until the deadline (see send)
            uncertain = exc.uncertain and row.channel == NOTICE
            if uncertain:
                log.warning("outbox row %s: no answer from WeChat; it may have the message", row.id)
            return Outcome(
                PENDING,
                code=exc.code,
                error=str(exc),
                retry_at=self._backoff(row.attempts),
                uncertain=uncertain,
            )
        return Outcome(DEAD, code=exc.code, error=str(exc))

    def _backoff(self, attempts: int) -> dt.datetime:
        o = self.settings.outbox
        delay = min(o.backoff_max_seconds, o.backoff_base_seconds * 2 ** min(attempts - 1, 30))
        return self.clock() + dt.timedelta(seconds=delay * (0.5 + self.rng()))

    def _download(self, row: Claimed, remaining: int) -> Outcome:
        wait = self.channels.wait_for("media", remaining)
        if wait:
            return wait
        media_id = row.payload["media_id"]
        try:
            content, content_type = self.api.download_media(media_id)
        except ApiError as exc:
            if exc.code == MEDIA_EXPIRED:
                return Outcome(DEAD, code=exc.code, error="素材已过期或无效 (40007)")
            raise
        digest = hashlib.sha256(content).hexdigest()
        extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif"}.get(
            content_type, ".bin"
        )
        relative = Path(digest[:2]) / f"{digest}{extension}"
        target = Path(self.settings.outbox.media_dir) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            # Each writer its own temporary name: two photos with the same content may
            # be fetched at once. The rename is atomic, so a reader never sees half a file.
            with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as fh:
                fh.write(content)
            Path(fh.name).replace(target)
        # Read-then-write: on SQLite take the write lock first, or a concurrent
        # delivery makes the upgrade fail with "database is locked".
        with serialised(self.runtime.session_factory) as session, session.begin():
            record_media(session, media_id, digest, str(relative), content_type, len(content))
        return Outcome(SENT, via=MEDIA, msgid=digest)
