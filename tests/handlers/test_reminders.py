"""While staff wait for information, every reply reminds the worker, unless the reply
left a conversation waiting for the worker's answer (a list, a question, a form)."""

from __future__ import annotations

from sqlalchemy import select

from models import AidApplication
from models.aid import NEEDS_INFO, transition
from tests.helpers import REFERENCE, Worker, apply, open_all_windows


def test_the_reminder_stays_off_a_reply_that_opens_a_list(wechat, db):
    open_all_windows(db)
    worker = Worker(wechat)
    reference = REFERENCE.search(apply(worker, "hardship")).group()
    transition(db, db.scalars(select(AidApplication)).one(), NEEDS_INFO, "staff:wang", "低保证")
    db.commit()
    # No conversation waits: the reply reminds.
    assert f"补充 {reference}" in worker.say("你好")
    # 普惠 lists the services and waits for a number: the list alone, no reminder under it.
    listing = worker.say("普惠")
    assert listing.startswith("会员普惠服务") and f"补充 {reference}" not in listing
