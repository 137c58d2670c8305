"""The ``/wechat`` callback: URL verification (GET) and message delivery (POST)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as BudgetExceeded
from pathlib import Path

from flask import Blueprint, Response, current_app, request

import handlers
from bot.intake import DatabaseBusy, Handoff, receive
from bot.parked import Parking
from bot.wechat.inbound import dedupe_key, to_inbound
from bot.wechat.protocol import Rejected, read_callback, render_text, verify_request
from handlers.messages import Inbound

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


def _plain(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


@bp.errorhandler(Rejected)
def rejected(error: Rejected) -> Response:
    log.warning("rejected callback from %s: %s", request.remote_addr, error.reason)
    return _plain(error.reason, error.status)


@bp.errorhandler(DatabaseBusy)
def database_unavailable(error: DatabaseBusy) -> Response:
    # WeChat retries a delivery that fails; 503 says "try again", and the
    # transaction that failed left no claim behind to block that retry.
    log.error("database unavailable while taking a delivery: %s", error)
    return _plain("service unavailable", 503)


def _read_body(limit: int) -> bytes:
    """The body, at most ``limit`` bytes, or 413.

    Flask refuses a declared Content-Length over the limit itself; a chunked body
    (gunicorn passes those through) has no length, and werkzeug's stream then
    stops at ``limit`` bytes without a word: the cut body failed as malformed XML
    (400). Reading past the limit makes that stream raise 413, as it should.
    """
    body = request.stream.read(limit)
    if len(body) == limit and request.stream.read(1):
        raise Rejected(413, "body too large")
    return body


def waited_seconds(header: str | None, now: float) -> float:
    """How long the request waited before we saw it, from the proxy's ``X-Request-Start``.

    WeChat's 5 seconds run from when it sent the request, and most of a slow answer
    under load is time spent queued (in the proxy, in the listen backlog, in the
    server's queue), which a server worker cannot see. nginx writes ``t=<sec.frac>``
    (``t=${msec}``), Apache ``t=<microseconds>`` (``%t``), some ``t=<milliseconds>``;
    the magnitude tells them apart. A missing or malformed header, or a clock ahead
    of ours, counts as no wait.
    """
    try:
        stamp = float((header or "").strip().removeprefix("t="))
    except ValueError:
        return 0.0
    if stamp > 1e14:
        stamp /= 1e6
    elif stamp > 1e11:
        stamp /= 1e3
    return max(0.0, now - stamp)


@bp.get("/wechat")
def verify_url() -> Response:
    """WeChat's URL check: echo ``echostr`` back if the signature is ours."""
    settings = current_app.extensions["unionbot"].settings
    verify_request(settings.wechat, request.args.to_dict())
    return _plain(request.args.get("echostr", ""))


@bp.post("/wechat")
def deliver() -> Response:
    """Take one delivery and answer with the passive reply, or ``success`` when there is none."""
    unionbot = current_app.extensions["unionbot"]
    settings = unionbot.settings
    args = request.args.to_dict()
    verify_request(settings.wechat, args)
    resume_parked(unionbot)  # once per process: what a dead one answered and never stored
    body = _read_body(settings.wechat.max_body_bytes)
    if not body:
        raise Rejected(400, "empty body")
    callback = read_callback(settings.wechat, args, body)
    inbound = to_inbound(callback)
    budget = settings.outbox.reply_budget_seconds
    budget -= waited_seconds(request.headers.get("X-Request-Start"), time.time())
    key = dedupe_key(inbound)
    handoff, parked = Handoff(), None
    if budget <= 0:
        # Already too late for a passive reply: the reply is built as usual and
        # follows through the outbox; "success" now stops WeChat's retries.
        parked = unionbot.parking.park(key, inbound)
        handoff.abandon()
    work = _submit(unionbot, inbound, key, handoff)
    if budget <= 0:
        log.warning("%s waited past the reply budget; the reply will follow", inbound.openid)
        return _success_kept(work, unionbot.parking, parked)
    try:
        replies = work.result(timeout=budget)
    except BudgetExceeded:
        parked = unionbot.parking.park(key, inbound)
        if handoff.abandon():
            # WeChat gives up at 5 s; "success" stops its retries, and the reply
            # follows through the outbox as a customer-service message.
            log.warning("reply for %s over budget; it will follow as a notice", inbound.openid)
            return _success_kept(work, unionbot.parking, parked)
        unionbot.parking.release(parked)
        replies = work.result()
    if not replies:
        return _plain("success")
    # A passive reply carries one message; several texts are sent as one.
    text = "\n\n".join(reply.content for reply in replies)
    return Response(render_text(callback, text, settings.wechat), mimetype="application/xml")


def _submit(unionbot, inbound: Inbound, key: str, handoff: Handoff) -> Future:
    return unionbot.executor.submit(
        receive,
        unionbot.session_factory,
        unionbot.settings,
        unionbot.flows,
        inbound,
        key,
        handlers.handle,
        handoff,
    )


def _success_kept(work: Future, parking: Parking, parked: Path | None) -> Response:
    """``success`` now; the parked copy is dropped once the delivery is stored, and kept
    for the next web process to resume if it never is (this one dies, or gives up)."""

    def stored(done: Future) -> None:
        if not done.cancelled() and done.exception() is None:
            parking.release(parked)

    work.add_done_callback(stored)
    return _plain("success")


def resume_parked(unionbot) -> None:
    """Hand the deliveries that a dead process answered but never stored to the intake
    again; their replies go out through the outbox (bot.parked)."""
    stranded = unionbot.parking.stranded_once()
    if stranded:
        log.warning("resuming %d parked deliveries of processes that stopped", len(stranded))
    for path, key, inbound in stranded:
        handoff = Handoff()
        handoff.abandon()
        _success_kept(_submit(unionbot, inbound, key, handoff), unionbot.parking, path)
