"""How messages to workers leave: a notice by the first channel that can reach the
worker, a mass send once per ``clientmsgid``.

These make the calls and say what happened (an :class:`Outcome`); errors they
do not handle themselves propagate to the drainer (:mod:`bot.outbox`), which
decides between retrying and giving up.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import Runtime, mass_send
from bot.rate_limits import Permits
from bot.wechat.api import ApiError, WeChatApi
from models.follower import Follower
from models.outbox import (
    DEAD,
    HELD,
    MASS,
    NOTICE,
    PENDING,
    SENT,
    VIA_CUSTOM,
    VIA_SUBSCRIBE,
    VIA_TEMPLATE,
    custom_sent_in_window,
)
from models.subscription import accepted

WINDOW_CLOSED = frozenset({45015, 45047})
REFUSED = 43101  # the worker refused this subscription notice
ALREADY_SENT = 45065


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
    created_at: dt.datetime
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class Outcome:
    status: str
    via: str | None = None
    msgid: str | None = None
    code: int | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None
    refund_attempt: bool = False  # no call was made (rate limit, breaker, token outage)
    uncertain: bool = False  # the call may have reached WeChat though it failed


@dataclass
class Context:
    """What a drain run's notices need to choose a channel, read once per worker per run."""

    followers: dict[int, Follower] = field(default_factory=dict)
    custom_used: dict[int, int] = field(default_factory=dict)  # in the current window
    consents: set[tuple[int, str]] = field(default_factory=set)  # (follower, template)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, session: Session, rows: list[Claimed], subscribe_templates: dict) -> None:
        """Read the workers of ``rows`` not read yet in this run.

        Counts of workers already known stay as this run has kept them: its own
        sends are counted there before they are recorded.
        """
        notices = [r for r in rows if r.channel == NOTICE and r.follower_id]
        ids = {r.follower_id for r in notices} - self.followers.keys()
        if not ids:
            return
        wanted = {
            (r.follower_id, subscribe_templates[r.kind])
            for r in notices
            if r.follower_id in ids and r.kind in subscribe_templates
        }
        followers = {f.id: f for f in session.scalars(select(Follower).where(Follower.id.in_(ids)))}
        for follower in followers.values():
            session.expunge(follower)
        used = custom_sent_in_window(session, ids)
        consents = accepted(session, wanted)
        with self.lock:
            self.followers.update(followers)
            self.custom_used.update(used)
            self.consents |= consents

    def window_open(self, follower: Follower | None, settings, now: dt.datetime) -> bool:
        o = settings.outbox
        if follower is None or follower.last_interaction_at is None:
            return False
        if now - follower.last_interaction_at > dt.timedelta(hours=o.custom_window_hours):
            return False
        with self.lock:  # count this send now, so one run cannot overspend the budget
            used = self.custom_used.get(follower.id, 0)
            if used >= o.custom_window_budget:
                return False
            self.custom_used[follower.id] = used + 1
            return True


class Channels:
    """Sends one claimed row by its channel."""

    def __init__(
        self,
        runtime: Runtime,
        api: WeChatApi,
        permits: Permits,
        clock: Callable[[], dt.datetime],
    ):
        self.runtime = runtime
        self.settings = runtime.settings
        self.api = api
        self.permits = permits
        self.clock = clock

    def wait_for(self, api: str, remaining: int) -> Outcome | None:
        next_window = self.permits.take(api, remaining)
        if next_window is None:
            return None
        return Outcome(PENDING, error="rate limited", retry_at=next_window, refund_attempt=True)

    def notice(self, row: Claimed, remaining: int, context: Context) -> Outcome:
        """Pick the channel: customer service in the window, else a subscription notice the
        worker accepted, else a template message, else hold for the next reply."""
        follower = context.followers.get(row.follower_id)
        if follower is not None and (not follower.subscribed or follower.unreachable_reason):
            return Outcome(DEAD, error=follower.unreachable_reason or "未关注公众号")
        if context.window_open(follower, self.settings, self.clock()):
            wait = self.wait_for("custom", remaining)
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
            wait = self.wait_for("template", remaining)
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
            wait = self.wait_for("template", remaining)
            if wait:
                return wait
            template = row.payload.get("template") or {"first": {"value": row.payload["text"]}}
            result = self.api.send_template(
                row.recipient, template_id, template, row.payload.get("url")
            )
            return Outcome(SENT, via=VIA_TEMPLATE, msgid=str(result.get("msgid", "")))
        return Outcome(HELD, error="48 小时窗口已关闭且无可用模板：等待职工下次发消息时送达")

    def mass(self, row: Claimed) -> Outcome:
        wait = self.wait_for("mass", 1)
        if wait:
            return wait
        try:
            result = mass_send.send(self.api, row.payload)
        except ApiError as exc:
            if exc.code == ALREADY_SENT:  # an earlier try got through: do not send twice
                return Outcome(SENT, via=MASS, code=exc.code, error="clientmsgid 已发送过")
            raise
        return Outcome(SENT, via=MASS, msgid=str(result.get("msg_id", "")))
