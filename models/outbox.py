"""The outbox: every message that leaves for WeChat is first a row here.

A row is written in the same transaction as the change that causes it, so a
decision and its notice commit together or not at all. Drainers claim due rows,
send them and record the result; the unique ``idempotency_key`` means a notice
enqueued twice (a retried job, a double click) exists once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable
from functools import cache
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Select,
    String,
    Text,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from models.base import Base, created_at, openid_str, utcnow
from models.follower import followers_within

# Channels. "notice" means a message to one worker whose channel (customer
# service, template, or held for the next reply) is chosen when it is sent.
NOTICE = "notice"
MASS = "mass"
MEDIA = "media"

# Statuses.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
HELD = "held"  # waits for the worker's next message and leaves with that reply
FAILED = "failed"  # still failing when its deadline came: no longer worth sending
DEAD = "dead"  # WeChat said it can never be delivered; the reason is kept

# How a notice actually left.
VIA_CUSTOM = "custom"
VIA_TEMPLATE = "template"
VIA_SUBSCRIBE = "subscribe"
VIA_PASSIVE = "passive"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # The claim's order to the id: else on PostgreSQL the rows due at one instant (a
        # campaign's) are all read, checked (``in_line``) and sorted to take a few.
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        # A worker's notices still to be sent, in order (see ``in_line``): the status
        # before the id, so the look-up skips the worker's notices already sent.
        Index("ix_outbox_recipient_order", "recipient", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    follower_id: Mapped[int | None] = mapped_column(
        ForeignKey("followers.id", ondelete="SET NULL"), index=True, default=None
    )
    recipient: Mapped[openid_str | None] = mapped_column(default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    sent_via: Mapped[str | None] = mapped_column(String(16), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Retried until then; None: the kind's deadline from ``created_at`` (config).
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Tries that may have reached WeChat without our knowing (timed out after the
    # request went out; a drainer died holding the row). Above 0 on a sent notice:
    # the worker may have got it twice.
    uncertain: Mapped[int] = mapped_column(default=0)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_error_code: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    wechat_msgid: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[created_at]
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)


def enqueue(
    session: Session,
    *,
    key: str,
    channel: str,
    kind: str,
    payload: dict[str, Any],
    follower_id: int | None = None,
    recipient: str | None = None,
    not_before: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> bool:
    """Add a message unless one with ``key`` exists; return whether it was added.

    Runs in the caller's transaction. ``INSERT … ON CONFLICT DO NOTHING`` keeps
    a concurrent duplicate from aborting that transaction.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    result = session.execute(
        insert(OutboxMessage)
        .values(
            idempotency_key=key[:255],
            channel=channel,
            kind=kind,
            follower_id=follower_id,
            recipient=recipient,
            payload=payload,
            status=PENDING,
            attempts=0,
            uncertain=0,
            next_attempt_at=not_before or now,
            expires_at=expires_at,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )
    return result.first() is not None


def enqueue_notice(
    session: Session,
    *,
    key: str,
    kind: str,
    follower_id: int,
    openid: str,
    text: str,
    template: dict[str, Any] | None = None,
    url: str | None = None,
    expires_at: dt.datetime | None = None,
) -> bool:
    """Queue a text notice to one worker; its channel is chosen when it is sent.

    ``expires_at``: when it stops being worth sending (e.g. the event it is about
    starts); by default the kind's deadline from the config.
    """
    payload: dict[str, Any] = {"text": text}
    if template:
        payload["template"] = template
    if url:
        payload["url"] = url
    return enqueue(
        session,
        key=key,
        channel=NOTICE,
        kind=kind,
        payload=payload,
        follower_id=follower_id,
        recipient=openid,
        expires_at=expires_at,
    )


CLAIMED_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.status,
    OutboxMessage.channel,
    OutboxMessage.kind,
    OutboxMessage.follower_id,
    OutboxMessage.recipient,
    OutboxMessage.payload,
    OutboxMessage.attempts,
    OutboxMessage.created_at,
    OutboxMessage.expires_at,
)


def _earlier_unsent():
    """An alias for the notices queued before a row to the same worker and still to be
    sent, and the conditions that say so (``ix_outbox_recipient_order`` finds them)."""
    earlier = aliased(OutboxMessage)
    return earlier, (
        earlier.recipient == OutboxMessage.recipient,
        earlier.status.in_((PENDING, SENDING)),
        earlier.id < OutboxMessage.id,
        earlier.channel == NOTICE,
    )


# The time of a claim, bound when it runs: the claim's statements are composed once, as
# composing them (aliases, correlated subqueries) costs more than running them.
NOW = bindparam("now")


def in_line():
    """A row that may be claimed at ``NOW``: no notice behind an earlier one to its worker.

    A worker's notices leave in the order they were queued (by id), so a notice
    waits while an earlier one to that worker is still to be sent and would not
    be claimed before it: ``sending`` under a live lease (another drain has it),
    or ``pending`` and due later than this one (backing off; claims go in
    ``next_attempt_at`` order, so one due no later is taken first or with it).
    Rows ``sent``, ``held``, ``failed`` or ``dead`` hold nothing back. Mass sends
    and downloads are not ordered.
    """
    earlier, unsent = _earlier_unsent()
    waiting = exists().where(
        *unsent,
        or_(
            and_(
                earlier.status == PENDING, earlier.next_attempt_at > OutboxMessage.next_attempt_at
            ),
            and_(earlier.status == SENDING, earlier.lease_expires_at >= NOW),
        ),
    )
    return or_(OutboxMessage.channel != NOTICE, ~waiting)


@cache
def due_queries() -> tuple[Select, Select]:
    """Rows ready to send: taken by a drainer whose lease ran out, then pending and due.

    Two queries rather than one with OR: each follows ``ix_outbox_due`` in order, so
    taking a few rows does not sort every pending one (a drainer claims every few
    rows; a campaign may have queued thousands). Each row found comes with how many
    earlier notices to its worker are still to be sent (``ahead``, for ``_keep_in_line``).
    """
    earlier, unsent = _earlier_unsent()
    ahead = select(func.count()).select_from(earlier).where(*unsent).scalar_subquery()
    columns = select(*CLAIMED_COLUMNS, ahead.label("ahead"))
    return (
        columns.where(
            OutboxMessage.status == SENDING, OutboxMessage.lease_expires_at < NOW, in_line()
        ),
        columns.where(
            OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= NOW, in_line()
        ).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id),
    )


def _keep_in_line(rows: list) -> list:
    """``rows`` without a notice that has an earlier one to its worker still to be sent
    that this claim did not take: the limit cut that one off, or another drainer is
    claiming it right now (on PostgreSQL ``SKIP LOCKED`` passes over it, and ``in_line``
    still sees it pending). The notice is left for a later claim."""
    taken: Counter[str] = Counter()
    kept = set()
    for r in sorted(rows, key=lambda r: r.id):
        if r.channel != NOTICE:
            kept.add(r.id)
        elif r.ahead == taken[r.recipient]:  # every earlier unsent one is in this claim
            taken[r.recipient] += 1
            kept.add(r.id)
    return [r for r in rows if r.id in kept]


def claim_due(session: Session, now: dt.datetime, limit: int, lease_until: dt.datetime) -> list:
    """Take up to ``limit`` due rows: ``sending`` until ``lease_until``, one more attempt.

    Returns them as they were (``status``, ``attempts``) before the claim. A notice
    taken from a drainer whose lease ran out is counted ``uncertain``: that drainer
    may have sent it. A notice is taken only with every earlier one to its worker
    still to be sent (``in_line``, ``_keep_in_line``). Plain columns and two UPDATEs,
    not ORM objects: drainers claim every few rows, and the ORM's bookkeeping would
    cost more than the statements.
    """
    rows: list = []
    for query in due_queries():
        if len(rows) >= limit:
            break
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # drainers take disjoint rows
        rows += session.execute(query.limit(limit - len(rows)), {"now": now}).all()
    rows = _keep_in_line(rows)
    if not rows:
        return []
    taken_over = [r.id for r in rows if r.status == SENDING and r.channel == NOTICE]
    if taken_over:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(taken_over))
            .values(uncertain=OutboxMessage.uncertain + 1)
        )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in rows]))
        .values(status=SENDING, lease_expires_at=lease_until, attempts=OutboxMessage.attempts + 1)
    )
    return rows


def held_for(session: Session, follower_id: int) -> list[OutboxMessage]:
    """Notices waiting for this worker's next message, oldest first, locked."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.follower_id == follower_id, OutboxMessage.status == HELD)
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
    )


def custom_sent_in_window(session: Session, follower_ids: set[int]) -> dict[int, int]:
    """Customer-service messages each worker got since their last interaction."""
    from models.follower import Follower

    rows = session.execute(
        select(OutboxMessage.follower_id, func.count())
        .join(Follower, Follower.id == OutboxMessage.follower_id)
        .where(
            OutboxMessage.follower_id.in_(follower_ids),
            OutboxMessage.sent_via == VIA_CUSTOM,
            OutboxMessage.sent_at >= Follower.last_interaction_at,
        )
        .group_by(OutboxMessage.follower_id)
    )
    return dict(rows.all())


def count_uncertain(session: Session) -> int:
    """Notices that may have reached the worker twice (or may still be sent again)."""
    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.uncertain > 0)
    )


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return dict(rows.all())


def messages_with_status(
    session: Session, statuses: Iterable[str], limit: int = 200, *, orgs: Collection[str] | None
) -> list[OutboxMessage]:
    """The newest ``limit`` messages in any of ``statuses`` to workers of ``orgs`` (None: all,
    mass sends and system messages included)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status.in_(list(statuses)),
                followers_within(OutboxMessage.follower_id, orgs),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
