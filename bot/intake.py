"""Exactly-once intake: claim a delivery, run its handler once, store and return the reply.

One transaction does all of it, under the follower's lock:

1. one read locks the follower (created on first contact) and brings what the
   delivery needs: an earlier copy's stored reply, the worker's conversation, the
   previous delivery, and whether notices are held or staff wait for information
   (:mod:`models.intake_read`);
2. if the delivery's key is already stored, this is a retry or a concurrent
   copy: return the stored reply without running anything;
3. otherwise run the handler, store the delivery with its reply (one INSERT),
   commit.

Because the claim commits together with the handler's effects, a process that
dies half-way leaves nothing behind and WeChat's next retry handles the message
afresh; a concurrent copy waits on the lock and then finds the stored reply.
A handler that raises is rolled back with everything it did, and a second
transaction stores the delivery with the error and gives the worker an apology
(a savepoint around every handler cost two statements per message for the rare
bug).

A database error is not a handler bug. A lock or statement timeout, a
deadlock, a serialisation failure or a dropped connection says nothing about
the message, so it must not be recorded as the delivery's outcome: the whole
transaction is rolled back (no claim is left) and :class:`DatabaseBusy` makes
the webhook answer 503, so WeChat's retry runs the message afresh and the
worker's answer is kept. If the webhook has already answered ``success``
(the reply budget ran out), no retry will come: the delivery is tried again
here, a few times, before giving up.

Notices held because the 48-hour window was closed ride along with the reply
to the worker's next message. When building the reply outlasts the budget the
webhook has already answered ``success``: the reply is then queued in the
outbox in the same transaction, and retries get ``success`` too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections.abc import Callable

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.writer_turn import writer_turn
from handlers import Inbound, Reply, State, Text
from handlers.flows import Flows
from handlers.messages import SYSTEM_EVENTS, replies_from_dicts
from models.base import utcnow
from models.database import serialised
from models.delivery import find_delivery, store_delivery
from models.follower import Follower
from models.intake_read import read_for_delivery
from models.outbox import SENT, VIA_PASSIVE, enqueue_notice, held_for

log = logging.getLogger(__name__)

Handle = Callable[[Inbound, State], list[Reply]]
CONTENT_LIMIT = 4000
# Tries of a delivery whose webhook already answered "success" (no WeChat retry follows).
DEFERRED_TRIES = 3
DEFERRED_BACKOFF_SECONDS = 0.5
INTERACTION_RESOLUTION = dt.timedelta(minutes=1)


class DatabaseBusy(Exception):
    """The database failed in a way a retry can cure; nothing of the delivery was kept."""


def transient(error: BaseException) -> bool:
    """Whether ``error`` is the database's trouble rather than our code's: timeouts,
    deadlocks, serialisation failures, lost connections, an exhausted pool."""
    if isinstance(error, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        return True
    if isinstance(error, PendingRollbackError):
        return True  # the connection failed earlier in this transaction
    return isinstance(error, DBAPIError) and error.connection_invalidated


class Handoff:
    """Who answers WeChat: the webhook with the passive reply, or the outbox later.

    Whichever of ``finish`` (the handler is done) and ``abandon`` (the budget ran
    out) comes first wins, under one lock, so a reply is never both returned and
    queued, nor neither.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._finished = False
        self._abandoned = False

    def finish(self) -> bool:
        """The reply is ready; return False if the webhook has already answered."""
        with self._lock:
            self._finished = not self._abandoned
            return self._finished

    def abandon(self) -> bool:
        """The budget ran out; return False if the reply is ready after all."""
        with self._lock:
            self._abandoned = not self._finished
            return self._abandoned


def apology(settings: Settings) -> Text:
    return Text(
        "抱歉，系统暂时出了点问题，您的消息已记录，工作人员会尽快处理。"
        f"如有急事请拨打 {settings.union.hotline}。"
    )


def receive(
    session_factory: sessionmaker[Session],
    settings: Settings,
    flows: Flows,
    inbound: Inbound,
    key: str,
    handle: Handle,
    handoff: Handoff | None = None,
) -> list[Reply]:
    """Handle ``inbound`` once per ``key`` and return its replies (stored ones for a retry).

    Raises :class:`DatabaseBusy` when the database failed and WeChat should retry.
    """

    failure: str | None = None

    def run(session: Session) -> list[Reply]:
        return _receive(session, settings, flows, inbound, key, handle, handoff, failure)

    attempt = 1
    while True:
        try:
            return _claim(session_factory, key, run)
        except HandlerFailed as failed:
            # Our bug, not the message's: nothing the handler did is kept, and a
            # second transaction stores the delivery as failed with an apology.
            failure = failed.trace
        except DatabaseBusy:
            # finish() is False only once the webhook has answered "success" (no retry
            # will come); otherwise the webhook now waits for this error and answers 503.
            if handoff is None or handoff.finish() or attempt >= DEFERRED_TRIES:
                raise
            log.warning("database busy on deferred delivery %s; trying again", key)
            time.sleep(DEFERRED_BACKOFF_SECONDS * attempt)
            attempt += 1


class HandlerFailed(Exception):
    """Our code raised while handling a delivery; its transaction was rolled back."""

    def __init__(self, trace: str):
        super().__init__(trace)
        self.trace = trace


def _claim(
    session_factory: sessionmaker[Session], key: str, run: Callable[[Session], list[Reply]]
) -> list[Reply]:
    """One transaction: claim, handle, store; or the stored reply of an earlier copy."""
    try:
        with (
            writer_turn(session_factory.kw["bind"].url),
            serialised(session_factory) as session,
            session.begin(),
        ):
            return run(session)
    except IntegrityError as error:
        # Only deliveries with no follower to lock (WeChat's job reports) can
        # race to the insert; the loser answers with what the winner stored.
        with session_factory() as session:
            stored = find_delivery(session, key)
        if stored is None:  # not that race: keep nothing and let WeChat try again
            log.error("integrity error on delivery %s with nothing stored: %s", key, error)
            raise DatabaseBusy(str(error)) from error
        return replies_from_dicts(stored.replies)
    except (DatabaseBusy, HandlerFailed):
        raise
    except Exception as error:
        if not transient(error):
            raise
        log.warning("database error on delivery %s, rolled back: %s", key, error)
        raise DatabaseBusy(str(error)) from error


def _receive(
    session: Session,
    settings: Settings,
    flows: Flows,
    inbound: Inbound,
    key: str,
    handle: Handle,
    handoff: Handoff | None,
    failure: str | None,
) -> list[Reply]:
    now = utcnow()
    read = None
    if inbound.is_event and inbound.event in SYSTEM_EVENTS:
        stored = find_delivery(session, key)
        if stored is not None:
            return _stored(key, stored.replies)
    else:
        interacted = now if inbound.is_interaction else None
        read = read_for_delivery(session, inbound.openid, key, interacted)
        if read.stored:
            return _stored(key, read.stored_replies)
    follower = read.follower if read else None
    if follower is not None and inbound.is_interaction:
        _touch(follower, now)
    state = State(
        follower=follower,
        conversation=read.conversation if read else None,
        session=session,
        settings=settings,
        now=now,
        flows=flows,
        prefetched=read,
    )
    status, replies = "failed", [apology(settings)]
    if failure is None:
        try:
            replies, status = handle(inbound, state), "handled"
            session.flush()  # the handler's writes fail here, as the handler's
        except Exception as error:
            if transient(error):
                raise DatabaseBusy(str(error)) from error  # roll it all back; WeChat retries
            log.exception("handler failed for delivery %s (msg id %s)", key, inbound.msg_id)
            raise HandlerFailed(traceback.format_exc(limit=8)[-4000:]) from error
    if handoff is not None and not handoff.finish():
        # The webhook answered "success" already: send the reply as a notice,
        # and leave held notices held (no passive reply will carry them).
        for number, reply in enumerate(replies if follower is not None else []):
            enqueue_notice(
                session,
                key=f"reply:{key}:{number}",
                kind="reply",
                follower_id=follower.id,
                openid=inbound.openid,
                text=reply.content,
            )
        status, replies = "deferred", []
    elif read is not None and read.held and inbound.shows_reply:
        replies += _take_held_notices(session, follower.id, now)
    # Stored last, with its outcome and replies: one INSERT, and the double tap's
    # "previous delivery" read above is the one before this.
    session.flush()  # held notices taken, or a deferred reply queued
    store_delivery(
        session,
        dedupe_key=key,
        openid=inbound.openid,
        follower_id=follower.id if follower else None,
        msg_type=inbound.kind,
        event=inbound.event or None,
        content=(inbound.text or None) and inbound.text[:CONTENT_LIMIT],
        payload=_payload(inbound),
        wechat_msg_id=inbound.msg_id or None,
        sent_at=inbound.sent_at,
        received_at=now,
        status=status,
        replies=[reply.to_dict() for reply in replies],
        error=failure,
    )
    return replies


def _stored(key: str, replies: list | None) -> list[Reply]:
    log.info("duplicate delivery %s answered from the stored reply", key)
    return replies_from_dicts(replies)


def _touch(follower: Follower, now: dt.datetime) -> None:
    """Record the interaction that opens the 48-hour window, to the minute: a window
    thought to close up to a minute early holds a notice for the next message, and
    a worker typing a form answer every few seconds costs no UPDATE per message."""
    last = follower.last_interaction_at
    if last is None or now - last >= INTERACTION_RESOLUTION:
        follower.last_interaction_at = now


def _take_held_notices(session: Session, follower_id: int, now) -> list[Reply]:
    held = held_for(session, follower_id)
    for row in held:
        row.status, row.sent_via, row.sent_at = SENT, VIA_PASSIVE, now
    return [Text(row.payload["text"]) for row in held]


def _payload(inbound: Inbound) -> dict:
    """The delivery's fields worth keeping, minus what is already in columns."""
    skip = {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Encrypt"}
    return {k: v for k, v in inbound.fields.items() if k not in skip}
