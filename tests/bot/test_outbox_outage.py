"""A WeChat outage: rows wait behind a breaker shared by the drainers, uncharged, and arrive
once it ends; what outlives its deadline is given up, and a lost photo is asked for again."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from sqlalchemy import func, select

from bot.fake_wechat import Fault
from models import Alert, Follower, MediaFile, OutboxMessage
from models.base import utcnow
from models.media import download_failure
from models.outbox import MEDIA, enqueue, enqueue_notice
from tests.bot.outbox_support import Clock, drainer_for, row, texts_sent
from tests.conftest import simulator_for
from tests.helpers import REFERENCE, Worker, apply

NOTICES, PHOTOS = 40, 3
# Longer than the old give-up time: 8 tries, 2 s doubling with jitter, about 4 minutes.
OUTAGE_SECONDS = 10 * 60
STEP_SECONDS = 5


def queue_notices_and_photos(app) -> None:
    """Notices to workers inside their window, and the photos they sent as proofs."""
    with app.extensions["unionbot"].session_factory.begin() as session:
        for n in range(NOTICES):
            follower = Follower(openid=f"o_w{n}", last_interaction_at=utcnow())
            session.add(follower)
            session.flush()
            enqueue_notice(
                session,
                key=f"notice:{n}",
                kind="aid_status",
                follower_id=follower.id,
                openid=follower.openid,
                text=f"通知{n}",
            )
        for n in range(PHOTOS):
            enqueue(
                session,
                key=f"media:P{n}",
                channel=MEDIA,
                kind="proof",
                payload={"media_id": f"P{n}"},
                follower_id=follower.id,
            )


def unsent(app) -> int:
    with app.extensions["unionbot"].session_factory() as session:
        query = select(func.count()).select_from(OutboxMessage)
        return session.scalar(query.where(OutboxMessage.status != "sent"))


def probes_at_most(settings, seconds: float) -> int:
    """Probes one breaker may make in ``seconds`` of outage: cool-downs double to the cap."""
    o, cooldown, spent, probes = settings.outbox, settings.outbox.breaker_cooldown_seconds, 0.0, 0
    while spent < seconds:
        spent += cooldown
        probes += 1
        cooldown = min(o.breaker_cooldown_max_seconds, cooldown * 2)
    return probes


def live_through_an_outage(app, fake) -> tuple[int, dict[str, dt.datetime | None]]:
    """WeChat answers 503 to everything for ``OUTAGE_SECONDS``, then recovers; two drainers
    run every few (simulated) seconds until all is sent. Return the calls made during the
    outage and the alerts open at its end."""
    queue_notices_and_photos(app)
    clock = Clock()
    drainers = [drainer_for(app, clock), drainer_for(app, clock)]  # two processes' worth
    drainers[0].api.store.get()  # the token was fetched before WeChat went down
    fake.inject(Fault("*", http_status=503, times=-1))
    while clock.elapsed < OUTAGE_SECONDS:
        for drainer in drainers:
            drainer.drain_until_empty()
        clock.advance(STEP_SECONDS)
    calls = len(fake.calls)
    with app.extensions["unionbot"].session_factory() as session:
        alerts = {a.key: a.resolved_at for a in session.scalars(select(Alert))}
    assert unsent(app) == NOTICES + PHOTOS  # nothing given up: the deadlines are days away
    fake.clear_faults()
    while unsent(app) and clock.elapsed < OUTAGE_SECONDS + 20 * 60:
        for drainer in drainers:
            drainer.drain_until_empty()
        clock.advance(STEP_SECONDS)
    assert Counter(texts_sent(fake)) == {f"通知{n}": 1 for n in range(NOTICES)}
    fetched = [c["params"]["media_id"] for c in fake.calls_to("media/get", ok_only=True)]
    assert Counter(fetched) == {f"P{n}": 1 for n in range(PHOTOS)}
    with app.extensions["unionbot"].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(MediaFile)) == PHOTOS
    return calls, alerts


def test_every_message_outlives_an_outage_longer_than_the_old_give_up_time(make_app, fake):
    app = make_app(outbox={"breaker_failures": 0})  # retries alone, no breaker
    calls, alerts = live_through_an_outage(app, fake)
    assert alerts == {}
    assert calls > NOTICES * 8  # every row kept trying, on its own backoff


def test_the_breaker_turns_an_outage_into_a_few_probes(make_app, fake, caplog):
    caplog.set_level(logging.WARNING, logger="bot.breaker")
    app = make_app()
    settings = app.extensions["unionbot"].settings
    calls, alerts = live_through_an_outage(app, fake)
    assert alerts == {"breaker:custom": None, "breaker:media": None}
    # Per API (custom, media): the sends in flight when the breaker opened, then the probes.
    per_api = settings.outbox.send_concurrency + probes_at_most(settings, OUTAGE_SECONDS)
    assert calls <= 2 * per_api
    with app.extensions["unionbot"].session_factory() as session:
        # Rows the open breaker held back were not charged: one try per call made.
        tries = session.scalar(select(func.sum(OutboxMessage.attempts)))
        assert all(a.resolved_at is not None for a in session.scalars(select(Alert)))
    assert tries == len(fake.calls_to("message/custom/send")) + len(fake.calls_to("media/get"))
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.breaker"]
    for api in ("custom", "media"):
        assert any(f"API {api}: breaker open" in line for line in logged)
        assert any(f"API {api}: breaker closed" in line for line in logged)


def test_a_photo_still_unfetched_when_wechat_deletes_it_is_given_up_and_asked_for_again(
    make_app, fake
):
    app = make_app(outbox={"templates": {"proof_resend": "TPL_NOTICE"}})
    fake.inject(Fault("media/get", errcode=-1, times=-1))  # busy for three days
    submitted = apply(Worker(simulator_for(app)), "hardship", photos=2)
    reference = REFERENCE.search(submitted).group()
    photos = ["hardship_o_wang_0", "hardship_o_wang_1"]
    clock = Clock()
    drainer, steps = drainer_for(app, clock), 0
    while (
        clock.elapsed < 73 * 3600
        and row(app, idempotency_key=f"media:{photos[0]}").status != "failed"
    ):
        drainer.drain_until_empty()
        clock.advance(30 * 60)
        steps += 1
        if clock.elapsed >= 72 * 3600:
            fake.expired_media.update(photos)  # WeChat has deleted them by now
    assert clock.elapsed <= 72.5 * 3600
    for media_id in photos:
        lost = row(app, idempotency_key=f"media:{media_id}")
        assert lost.status == "failed" and "deadline" in lost.last_error
    drainer.drain_until_empty()  # the requests to send them again leave by the next channel
    with app.extensions["unionbot"].session_factory() as session:
        assert all(download_failure(session, media_id) for media_id in photos)
    asked = [c["json"] for c in fake.calls_to("message/template/send", ok_only=True)]
    assert {a["touser"] for a in asked} == {"o_wang"}
    texts = sorted(a["data"]["first"]["value"] for a in asked)
    assert [f"第{n}张照片" in text for n, text in enumerate(texts, 1)] == [True, True]
    assert all(f"申请 {reference}" in text and "3天" in text for text in texts)
    # One probe per drain at most, for both photos: the breaker paused their downloads.
    assert len(fake.calls_to("media/get")) <= steps + 5


def test_a_notice_past_its_own_deadline_is_not_sent(app, fake):
    with app.extensions["unionbot"].session_factory.begin() as session:
        follower = Follower(openid="o_entrant", last_interaction_at=utcnow())
        session.add(follower)
        session.flush()
        enqueue_notice(
            session,
            key="reminder",
            kind="competition_reminder",
            follower_id=follower.id,
            openid=follower.openid,
            text="比赛提醒",
            expires_at=utcnow() + dt.timedelta(hours=1),  # the event starts then
        )
    clock = Clock()
    clock.advance(2 * 3600)
    drainer_for(app, clock).drain_until_empty()
    late = row(app)
    assert (late.status, late.attempts) == ("failed", 0)
    assert not fake.calls_to("message/custom/send")
