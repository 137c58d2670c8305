"""A circuit breaker per WeChat API, shared by every drainer through the database.

After ``breaker_failures`` busy or network errors in a row (counted by all
drainers together) an API's breaker opens: no drainer calls it until the
cool-down is over; then exactly one call goes through as a probe. The probe's
success closes the breaker; its failure doubles the cool-down, up to
``breaker_cooldown_max_seconds``. So an outage costs a few probes, not a call per
message per retry. Opening and closing are logged and shown as an alert.

Each process keeps a view of the shared state, read again at most once a second
and updated at once by its own calls, so a call costs no database work while
the API is healthy.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.wechat.errors import BreakerOpen
from models.alerts import raise_alert, resolve_alert
from models.base import utcnow
from models.coordination import (
    BreakerState,
    breaker_failed,
    breaker_probe_failed,
    breaker_states,
    close_breaker,
    release_breaker_probe,
    reset_breaker_failures,
    take_breaker_probe,
)
from models.database import serialised

log = logging.getLogger(__name__)

# How stale a process's view of the other drainers' breakers may be.
REFRESH = dt.timedelta(seconds=1)
LABELS = {
    "custom": "客服消息",
    "template": "模板消息",
    "subscribe": "订阅通知",
    "mass": "群发",
    "media": "素材下载",
    "token": "access_token",
}


@dataclass(frozen=True)
class Ticket:
    """Leave to make one call; ``probe``: the one call through an open breaker."""

    api: str
    probe: bool = False


@dataclass
class _View:
    state: BreakerState
    read_at: dt.datetime
    run: int = 0  # errors in a row this process saw since the shared count was last reset
    lock: threading.Lock = field(default_factory=threading.Lock)


class Breakers:
    """This process's side of the shared breakers."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        o = settings.outbox
        self.session_factory = session_factory
        self.threshold = o.breaker_failures
        self.cooldown = o.breaker_cooldown_seconds
        self.cooldown_max = o.breaker_cooldown_max_seconds
        # A probe that never reports (its drainer died) blocks the next one this long.
        self.probe_lease = dt.timedelta(seconds=2 * settings.wechat.request_timeout_seconds + 1)
        self.clock = clock
        self.views: dict[str, _View] = {}
        self.lock = threading.Lock()

    def admit(self, api: str) -> Ticket:
        """Leave to call ``api`` now, or :class:`BreakerOpen` saying when to come back."""
        now = self.clock()
        view = self._view(api, now)
        state = view.state
        if not state.open:
            return Ticket(api)
        if state.retry_at is not None and now < state.retry_at:
            raise BreakerOpen(api, state.retry_at)
        with serialised(self.session_factory) as session, session.begin():
            won = take_breaker_probe(session, api, now, now + self.probe_lease)
        with view.lock:  # until the probe reports, this process asks no more
            view.state = replace(view.state, retry_at=now + self.probe_lease)
        if not won:
            raise BreakerOpen(api, now + self.probe_lease)
        return Ticket(api, probe=True)

    def failed(self, ticket: Ticket) -> None:
        """The call met a busy answer or a network failure."""
        now, api = self.clock(), ticket.api
        view = self._view(api, now)
        with view.lock:
            view.run += 1
            if view.state.open and not ticket.probe:
                return  # started before the breaker opened; the probes decide now
        with serialised(self.session_factory) as session, session.begin():
            if ticket.probe:
                state = breaker_probe_failed(session, api, now, self.cooldown_max)
                raise_alert(session, f"breaker:{api}", self._alert_text(state))
                opened = False
            else:
                state, opened = breaker_failed(session, api, now, self.threshold, self.cooldown)
                if opened:
                    raise_alert(session, f"breaker:{api}", self._alert_text(state))
        with view.lock:
            view.state, view.read_at = state, now
        if opened:
            log.warning(
                "WeChat API %s: breaker open after %d busy/network errors in a row; "
                "calls paused, first probe in %.0f s",
                api,
                state.failures,
                state.cooldown_seconds,
            )
        elif ticket.probe:
            log.warning(
                "WeChat API %s: probe failed, still open (%s); next probe in %.0f s",
                api,
                now - state.opened_at if state.opened_at else "?",
                state.cooldown_seconds,
            )

    def succeeded(self, ticket: Ticket) -> None:
        """WeChat answered (with success, or an error about this request only)."""
        now, api = self.clock(), ticket.api
        view = self._view(api, now)
        with view.lock:
            needs_write = ticket.probe or (
                not view.state.open and (view.run or view.state.failures)
            )
            view.run = 0
        if not needs_write:
            return
        with serialised(self.session_factory) as session, session.begin():
            if ticket.probe:
                closed = close_breaker(session, api)
                if closed:
                    resolve_alert(session, f"breaker:{api}")
            else:
                closed = None
                reset_breaker_failures(session, api)
        with view.lock:
            if ticket.probe:
                view.state = BreakerState(api)
            else:
                view.state = replace(view.state, failures=0)
        if closed is not None and closed.opened_at is not None:
            log.warning(
                "WeChat API %s: breaker closed, calls resume (open %s, %d probes)",
                api,
                now - closed.opened_at,
                closed.probes,
            )

    def cancelled(self, ticket: Ticket) -> None:
        """The call was never made (e.g. no token): a probe hands its turn on."""
        if not ticket.probe:
            return
        with serialised(self.session_factory) as session, session.begin():
            release_breaker_probe(session, ticket.api)
        view = self._view(ticket.api, self.clock())
        with view.lock:
            view.read_at = dt.datetime.min.replace(tzinfo=dt.UTC)  # read it again next time

    def _view(self, api: str, now: dt.datetime) -> _View:
        with self.lock:
            view = self.views.get(api)
            if view is None or not view.read_at <= now < view.read_at + REFRESH:
                with self.session_factory() as session:
                    states = breaker_states(session)
                for name, state in states.items():
                    known = self.views.get(name)
                    if known is None:
                        self.views[name] = _View(state, now)
                    else:
                        with known.lock:
                            known.state, known.read_at = state, now
                view = self.views.setdefault(api, _View(BreakerState(api), now))
                view.read_at = now
            return view

    def _alert_text(self, state: BreakerState) -> str:
        label = LABELS.get(state.api, state.api)
        return (
            f"微信{label}接口连续繁忙或无法连接，已暂停调用（熔断），"
            f"每隔{state.cooldown_seconds:.0f}秒试探一次；恢复后自动继续发送，消息不会丢失。"
        )
