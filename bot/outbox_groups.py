"""A worker's notices leave in the order they were queued: one thread sends them in turn.

A drain sends its claimed rows in parallel, so two notices to one worker sent by
two threads could arrive in either order ("需要补充" before "已进入审核"). The rows
are therefore grouped: a worker's notices form one group, sent in id order by
one thread; every other row (a mass send, a photo download) is a group of its
own. Groups run in parallel, so other workers' notices still go at once.

A notice that will be retried (busy, network, rate limit, breaker) holds back
the rest of its group: they are not sent, and wait (not charged a try) until it
is due again. Between drains the claim keeps them back while it waits
(:func:`models.outbox.in_line`). A notice that ends ``dead``, ``failed`` or
``held`` holds nothing back: it will not be sent, or not before the worker
writes in.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.channels import Claimed, Outcome
from models.outbox import NOTICE, PENDING

Sent = list[tuple[Claimed, Outcome]]


def in_groups(rows: list[Claimed]) -> list[list[Claimed]]:
    """``rows`` grouped by worker for notices, one a group otherwise, in id order within a
    group; groups in the order of their first row (the claim's, oldest due first)."""
    groups: dict[object, list[Claimed]] = {}
    for row in rows:
        ordered = row.channel == NOTICE and row.recipient
        groups.setdefault(row.recipient if ordered else row.id, []).append(row)
    return [sorted(group, key=lambda r: r.id) for group in groups.values()]


def send_in_order(
    group: list[Claimed], send: Callable[[Claimed, int], Outcome], remaining: int
) -> Sent:
    """Send ``group`` one row after another; after a row that will be retried, send no more.

    ``remaining``: how many rows the drain may still send, counting this group's
    first (rate-limit permits are taken in blocks of about that many).
    """
    results: Sent = []
    blocker: tuple[Claimed, Outcome] | None = None
    for position, row in enumerate(group):
        if blocker is None:
            outcome = send(row, remaining - position)
            if outcome.status == PENDING:
                blocker = (row, outcome)
        else:
            first, waiting = blocker
            outcome = Outcome(
                PENDING,
                error=f"等待同一职工的前一条通知（{first.id}）先送达",
                retry_at=waiting.retry_at,  # due with it, and claimed after it (by id)
                refund_attempt=True,
            )
        results.append((row, outcome))
    return results
