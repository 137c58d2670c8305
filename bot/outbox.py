"""Drain the outbox: claim due rows, send them to WeChat, record what happened.

Claiming marks rows ``sending`` with a lease, in a short transaction; on
PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several drainers on several machines
take disjoint batches. A drainer that dies leaves its rows ``sending`` until the
lease runs out; then any drainer takes them again. Results are written only
while the row is still ours (``status = 'sending'``).

WeChat's errors are handled as documented: token errors are retried once with
a new token (in :mod:`bot.wechat.api`); busy and frequency errors and network
failures back off exponentially with jitter up to ``max_attempts``; a worker
who unfollowed or an invalid openid kills the row and marks the follower; a
closed 48-hour window or a spent quota falls back to the next channel. Every
row that ends ``dead`` or ``failed`` keeps its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from bot import Runtime
from bot.rate_limits import Permits
from bot.wechat.api import ApiError, TokenUnavailable, WeChatApi
from models.alerts import raise_alert, resolve_alert
from models.base import utcnow
from models.database import serialised
from models.follower import Follower
from models.media import record_media
from models.outbox import (
    DEAD,
    FAILED,
    HELD,
    MASS,
    MEDIA,
    NOTICE,
    PENDING,
    SENDING,
    SENT,
    VIA_CUSTOM,
    VIA_SUBSCRIBE,
    VIA_TEMPLATE,
    OutboxMessage,
    custom_sent_in_window,
    due_query,
)
from models.subscription import accepted

log = logging.getLogger(__name__)

RETRYABLE = frozenset({-1, 45009, 45011})
UNREACHABLE = {43004: "未关注公众号 (43004)", 40003: "openid 无效 (40003)"}
WINDOW_CLOSED = frozenset({45015, 45047})
MEDIA_EXPIRED = 40007
REFUSED = 43101  # the worker refused this subscription notice
ALREADY_SENT = 45065
TOKEN_WAIT = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Claimed:
    """A claimed row, detached from any session."""

    id: int
    channel: str
    kind: str
    follower_id: int | None
    recipient: str | None
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Outcome:
    status: str
    via: str | None = None
    msgid: str | None = None
    code: int | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None
    refund_attempt: bool = False  # the try did not count (rate limit, token outage)


@dataclass
class BatchContext:
    """What a batch's notices need to choose a channel, read once per batch."""

    followers: dict[int, Follower]
    custom_used: dict[int, int]  # customer-service messages in the current window
    lock: threading.Lock
    consents: set[tuple[int, str]]  # (follower, subscription template) accepted

    def window_open(self, follower: Follower | None, settings) -> bool:
        o = settings.outbox
        if follower is None or follower.last_interaction_at is None:
            return False
        if utcnow() - follower.last_interaction_at > dt.timedelta(hours=o.custom_window_hours):
            return False
        with self.lock:  # count this send now, so one batch cannot overspend the budget
            used = self.custom_used.get(follower.id, 0)
            if used >= o.custom_window_budget:
                return False
            self.custom_used[follower.id] = used + 1
            return True


class Drainer:
    """Sends due outbox rows. Safe to run in several processes at once."""

    def __init__(
        self, runtime: Runtime, api: WeChatApi, *, rng: Callable[[], float] = random.random
    ):
        self.runtime = runtime
        self.settings = runtime.settings
        self.api = api
        self.rng = rng
        self.permits = Permits(runtime)
        self.pool = ThreadPoolExecutor(
            runtime.settings.outbox.send_concurrency, thread_name_prefix="drain"
        )

    # -- claiming -----------------------------------------------------------------------

    def claim(self) -> list[Claimed]:
        o = self.settings.outbox
        now = utcnow()
        with serialised(self.runtime.session_factory) as session, session.begin():
            query = due_query(now, o.batch_size)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            for row in rows:
                row.status = SENDING
                row.lease_expires_at = now + dt.timedelta(seconds=o.lease_seconds)
                row.attempts += 1
            return [
                Claimed(
                    r.id, r.channel, r.kind, r.follower_id, r.recipient, dict(r.payload), r.attempts
                )
                for r in rows
            ]

    def drain_once(self) -> int:
        """Send one batch, ``send_concurrency`` rows at a time; return how many rows it took."""
        batch = self.claim()
        if not batch:
            return 0
        context = self._context(batch)

        def send(position_row: tuple[int, Claimed]) -> Outcome:
            position, row = position_row
            return self.send(row, remaining=len(batch) - position, context=context)

        # One commit for the batch's results: per-row commits from the sending
        # threads make SQLite writers queue on its lock. A crash before this commit
        # leaves the batch "sending" until its lease runs out, as it would anyway.
        self.record(list(zip(batch, self.pool.map(send, enumerate(batch)), strict=True)))
        return len(batch)

    def _context(self, batch: list[Claimed]) -> BatchContext:
        notices = [row for row in batch if row.channel == NOTICE and row.follower_id]
        ids = {row.follower_id for row in notices}
        wanted = {
            (row.follower_id, self.settings.outbox.subscribe_templates[row.kind])
            for row in notices
            if row.kind in self.settings.outbox.subscribe_templates
        }
        followers: dict[int, Follower] = {}
        used: dict[int, int] = {}
        consents: set[tuple[int, str]] = set()
        if ids:
            with self.runtime.session_factory() as session:
                query = select(Follower).where(Follower.id.in_(ids))
                followers = {f.id: f for f in session.scalars(query)}
                used = custom_sent_in_window(session, ids)
                consents = accepted(session, wanted)
        return BatchContext(followers, used, threading.Lock(), consents)

    def drain_until_empty(self, timeout: float = 30.0) -> int:
        """Drain until nothing is due (tests, the CLI and benchmarks)."""
        total, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            taken = self.drain_once()
            if not taken:
                break
            total += taken
        return total

    # -- sending ------------------------------------------------------------------------

    def send(
        self, row: Claimed, remaining: int = 1, context: BatchContext | None = None
    ) -> Outcome:
        try:
            if row.channel == NOTICE:
                return self._send_notice(row, remaining, context or self._context([row]))
            if row.channel == MASS:
                return self._send_mass(row)
            if row.channel == MEDIA:
                return self._download(row, remaining)
            return Outcome(DEAD, error=f"unknown channel {row.channel!r}")
        except TokenUnavailable as exc:
            with serialised(self.runtime.session_factory) as session, session.begin():
                raise_alert(session, "access_token", f"无法获取 access_token：{exc}")
            return Outcome(
                PENDING,
                code=exc.code,
                error=str(exc),
                retry_at=utcnow() + TOKEN_WAIT,
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
            # A bug or a malformed row must not stall the batch and come back after
            # every lease: the row ends dead, with the reason, for staff to see.
            log.exception("outbox row %s could not be sent", row.id)
            return Outcome(DEAD, error=f"内部错误：{type(exc).__name__}: {exc}")

    def _failure(self, row: Claimed, exc: ApiError) -> Outcome:
        if exc.code in UNREACHABLE:
            return Outcome(DEAD, code=exc.code, error=UNREACHABLE[exc.code])
        if exc.code is None or exc.code in RETRYABLE:
            if row.attempts >= self.settings.outbox.max_attempts:
                return Outcome(
                    FAILED, code=exc.code, error=f"{exc} (gave up after {row.attempts} tries)"
                )
            return Outcome(
                PENDING, code=exc.code, error=str(exc), retry_at=self._backoff(row.attempts)
            )
        return Outcome(DEAD, code=exc.code, error=str(exc))

    def _backoff(self, attempts: int) -> dt.datetime:
        o = self.settings.outbox
        delay = min(o.backoff_max_seconds, o.backoff_base_seconds * 2 ** (attempts - 1))
        return utcnow() + dt.timedelta(seconds=delay * (0.5 + self.rng()))

    def _wait_for(self, api: str, remaining: int) -> Outcome | None:
        next_window = self.permits.take(api, remaining)
        if next_window is None:
            return None
        return Outcome(PENDING, error="rate limited", retry_at=next_window, refund_attempt=True)

    def _send_notice(self, row: Claimed, remaining: int, context: BatchContext) -> Outcome:
        """Pick the channel: customer service in the window, else a subscription notice the
        worker accepted, else a template message, else hold for the next reply."""
        follower = context.followers.get(row.follower_id)
        if follower is not None and (not follower.subscribed or follower.unreachable_reason):
            return Outcome(DEAD, error=follower.unreachable_reason or "未关注公众号")
        if context.window_open(follower, self.settings):
            wait = self._wait_for("custom", remaining)
            if wait:
                return wait
            try:
                self.api.send_text(row.recipient, row.payload["text"])
                return Outcome(SENT, via=VIA_CUSTOM)
            except ApiError as exc:
                if exc.code not in WINDOW_CLOSED:
                    raise
        subscribe_id = self.settings.outbox.subscribe_templates.get(row.kind)
        if subscribe_id and (row.follower_id, subscribe_id) in context.consents:
            wait = self._wait_for("template", remaining)
            if wait:
                return wait
            data = row.payload.get("subscribe") or {"thing1": {"value": row.payload["text"][:20]}}
            try:
                self.api.send_subscribe(row.recipient, subscribe_id, data, row.payload.get("page"))
                return Outcome(SENT, via=VIA_SUBSCRIBE)
            except ApiError as exc:
                if exc.code != REFUSED:  # the worker turned it off since: try the next channel
                    raise
        template_id = self.settings.outbox.templates.get(row.kind)
        if template_id and self.settings.wechat.account_type == "service":
            wait = self._wait_for("template", remaining)
            if wait:
                return wait
            template = row.payload.get("template") or {"first": {"value": row.payload["text"]}}
            result = self.api.send_template(
                row.recipient, template_id, template, row.payload.get("url")
            )
            return Outcome(SENT, via=VIA_TEMPLATE, msgid=str(result.get("msgid", "")))
        return Outcome(HELD, error="48 小时窗口已关闭且无可用模板：等待职工下次发消息时送达")

    def _send_mass(self, row: Claimed) -> Outcome:
        wait = self._wait_for("mass", 1)
        if wait:
            return wait
        p = row.payload
        try:
            if p.get("openids"):
                result = self.api.mass_text_to_openids(p["openids"], p["text"], p["client_msg_id"])
            else:
                result = self.api.mass_text_to_tag(p.get("tag_id"), p["text"], p["client_msg_id"])
        except ApiError as exc:
            if exc.code == ALREADY_SENT:  # an earlier try got through: do not send twice
                return Outcome(SENT, via=MASS, code=exc.code, error="clientmsgid 已发送过")
            raise
        return Outcome(SENT, via=MASS, msgid=str(result.get("msg_id", "")))

    def _download(self, row: Claimed, remaining: int) -> Outcome:
        wait = self._wait_for("media", remaining)
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

    # -- recording ----------------------------------------------------------------------

    def record(self, results: list[tuple[Claimed, Outcome]]) -> None:
        """Write each row's outcome, while the row is still ours (``sending``).

        Rows with the same outcome are written by one UPDATE, so a batch costs a
        handful of statements, not one per row.
        """
        now = utcnow()
        groups: dict[tuple, list[int]] = {}
        for row, outcome in results:
            groups.setdefault(self._values(outcome, now), []).append(row.id)
            if outcome.status in (DEAD, FAILED):
                log.warning("outbox row %s %s: %s", row.id, outcome.status, outcome.error)
        with self.runtime.session_factory.begin() as session:
            for values, ids in groups.items():
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING)
                    .values(**dict(values))
                )
            if any(outcome.status == SENT for _, outcome in results):
                resolve_alert(session, "access_token")
            for row, outcome in results:
                if outcome.status == DEAD and outcome.code in UNREACHABLE and row.follower_id:
                    follower = session.get(Follower, row.follower_id)
                    follower.unreachable_reason = UNREACHABLE[outcome.code]
                    if outcome.code == 43004:
                        follower.subscribed = False

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
        return tuple(values.items())
