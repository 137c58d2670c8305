"""Everything the intake and the common handlers read about a delivery, in one statement.

A message used to cost a dozen reads: the follower's lock, the stored reply of an
earlier copy, the conversation (twice), the previous delivery for the double tap,
the applications waiting for information, the held notices. Each is a primary-key
or indexed lookup, so the time went to the round trips and the ORM's work per
statement, not to the database. Here they are columns of one SELECT over the
follower's row, with the catalogue's version token. On SQLite the transaction already
holds the write lock; PostgreSQL takes the follower's row lock first, in a statement of
its own (see :func:`read_for_delivery`). What is rarely
there (held notices, applications waiting for information) comes as a flag, and is
loaded only when the flag says it exists.

The statement is built once, with bound parameters, so a message pays for its
execution and not for composing and caching a query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ScalarSelect, Select, and_, bindparam, exists, select
from sqlalchemy.orm import Session, aliased

from models import catalogue
from models.aid import NEEDS_INFO, AidApplication
from models.conversation import Conversation
from models.delivery import Delivery
from models.follower import Follower, create_follower
from models.outbox import HELD, OutboxMessage


@dataclass(frozen=True)
class Previous:
    """The follower's latest stored delivery, as much as the double tap reads."""

    msg_type: str
    status: str
    content: str | None
    sent_at: dt.datetime | None
    received_at: dt.datetime


@dataclass
class IntakeRead:
    follower: Follower
    conversation: Conversation | None
    # An earlier copy of this delivery (a WeChat retry), with its stored replies.
    stored: bool
    stored_replies: list[Any] | None
    previous: Previous | None
    needs_info: bool
    held: bool


def _latest_of_follower(column, owner, order) -> ScalarSelect:
    """The follower's newest row's ``column`` (by ``order``), as a subquery that reads its
    own alias of the table and sees only the follower from outside."""
    return (
        select(column)
        .where(owner == Follower.id)
        .order_by(order.desc())
        .limit(1)
        .correlate(Follower)
        .scalar_subquery()
    )


@cache
def _statement() -> Select:
    follower = Follower
    flows, earlier = aliased(Conversation, name="flows"), aliased(Delivery, name="earlier")
    latest_flow = _latest_of_follower(flows.flow, flows.follower_id, flows.updated_at)
    latest_delivery = _latest_of_follower(earlier.id, earlier.follower_id, earlier.id)
    previous = aliased(Delivery, name="previous")
    key = bindparam("key")
    stored = aliased(Delivery, name="stored")
    return (
        select(
            follower,
            Conversation,
            stored.id,
            stored.replies,
            previous.msg_type,
            previous.status,
            previous.content,
            previous.sent_at,
            previous.received_at,
            exists()
            .where(AidApplication.follower_id == follower.id, AidApplication.status == NEEDS_INFO)
            .label("needs_info"),
            exists()
            .where(OutboxMessage.follower_id == follower.id, OutboxMessage.status == HELD)
            .label("held"),
            catalogue.TOKEN.label("catalogue_token"),
        )
        .select_from(follower)
        .outerjoin(
            Conversation,
            and_(Conversation.follower_id == follower.id, Conversation.flow == latest_flow),
        )
        .outerjoin(previous, previous.id == latest_delivery)
        .outerjoin(stored, stored.dedupe_key == key)
        .where(follower.openid == bindparam("openid"))
    )


@cache
def _lock() -> Select:
    return select(Follower.id).where(Follower.openid == bindparam("openid")).with_for_update()


def read_for_delivery(
    session: Session, openid: str, key: str, interacted_at: dt.datetime | None
) -> IntakeRead:
    """The follower (created if new, with ``interacted_at``) locked, with what the
    delivery ``key`` needs."""
    params = {"openid": openid, "key": key}
    # PostgreSQL: the lock first, by itself. A SELECT … FOR UPDATE that waits for the lock
    # returns the locked row fresh but everything else it joined as it was when the
    # statement began (READ COMMITTED): a copy waiting behind the first would not see the
    # first's stored reply or conversation. The read after the lock is a new statement,
    # so it sees what the first committed. SQLite's BEGIN IMMEDIATE locks before any read.
    locking = session.get_bind().dialect.name == "postgresql"
    row = None
    if not locking or session.execute(_lock(), params).first() is not None:
        row = session.execute(_statement(), params).one_or_none()
    if row is None:
        created = create_follower(session, openid, interacted_at)
        if created is not None:
            # A worker new to us has no conversation, deliveries or notices yet. (A
            # stored copy of this key without its follower, whose data was erased,
            # fails the delivery's unique key and is answered from the stored row.)
            return IntakeRead(created, None, False, None, None, False, False)
        if locking:  # a concurrent first message created the worker: wait for it
            session.execute(_lock(), params).one()
        row = session.execute(_statement(), params).one()
    catalogue.note_token(session, row.catalogue_token)
    (follower, conversation, stored_id, replies, kind, status, content, sent, received) = row[:9]
    return IntakeRead(
        follower=follower,
        conversation=conversation,
        stored=stored_id is not None,
        stored_replies=replies,
        previous=None if kind is None else Previous(kind, status, content, sent, received),
        needs_info=bool(row.needs_info),
        held=bool(row.held),
    )
