"""WeChat's job-finish reports, delivered to the webhook, land on the run that sent."""

from __future__ import annotations

from sqlalchemy import select

from bot.campaign_runner import plan
from models import OutboxMessage
from models.base import utcnow
from models.campaign_control import run_now
from models.campaign_runs import tally, wechat_figures
from models.campaigns import find_campaign
from tests.bot.outbox_support import drainer_for
from tests.campaign_support import add_followers, approved_campaign

ACCOUNT_OPENID = "o_account_itself"  # WeChat sends job reports from the account's own id


def test_mass_job_finish_events_update_the_run(make_app, fake, wechat, db):
    app = make_app(campaigns={"mass_batch_size": 10})
    add_followers(db, 15)
    approved_campaign(db)
    db.commit()
    runtime = app.extensions["unionbot"]
    with runtime.session_factory.begin() as session:
        campaign = find_campaign(session, "test_jobs")
        run_id = run_now(session, campaign, "staff:li", utcnow(), ("03:00", "03:01")).id
    plan(runtime, run_id)
    drainer_for(app).drain_until_empty()
    db.commit()
    msg_ids = [r.wechat_msgid for r in db.scalars(select(OutboxMessage)).all()]
    assert len(msg_ids) == 2 and all(msg_ids)

    for msg_id, (total, sent, filtered) in zip(msg_ids, [(10, 9, 1), (5, 5, 0)], strict=True):
        answer = wechat.send_event(
            ACCOUNT_OPENID,
            "MASSSENDJOBFINISH",
            MsgID=int(msg_id),
            Status="send success",
            TotalCount=total,
            FilterCount=filtered,
            SentCount=sent,
            ErrorCount=0,
        )
        assert answer.status == 200
    # WeChat repeats an event it got no quick answer for: counted once.
    wechat.send_event(
        ACCOUNT_OPENID,
        "MASSSENDJOBFINISH",
        MsgID=int(msg_ids[1]),
        Status="send success",
        TotalCount=5,
        FilterCount=0,
        SentCount=5,
        ErrorCount=0,
    )
    db.commit()
    assert wechat_figures(db, run_id) == {
        "total": 15,
        "sent": 14,
        "filtered": 1,
        "errors": 0,
        "reports": 2,
    }
    assert tally(db, run_id)["sent"] == 15


def test_a_report_of_someone_elses_send_is_ignored(app, wechat, db):
    answer = wechat.send_event(
        ACCOUNT_OPENID,
        "MASSSENDJOBFINISH",
        MsgID=123456,
        Status="send success",
        TotalCount=3,
        FilterCount=0,
        SentCount=3,
        ErrorCount=0,
    )
    assert answer.status == 200
    db.commit()
    assert db.scalars(select(OutboxMessage)).all() == []
