"""A 300-connection burst against the production set-up: no reply later than WeChat's 5 s,
and every reply deferred past the budget delivered as a customer-service message once.

    python bench/burst.py                        # SQLite, 300 connections x 3 messages
    python bench/burst.py --messages 1           # one message each
    python bench/burst.py --no-stamp             # without the proxy's X-Request-Start
    createdb -h 127.0.0.1 -U postgres burstbench # never the suite's database `test`
    python bench/burst.py --database postgresql+psycopg://postgres@127.0.0.1:5432/burstbench

Starts unionbot as README's "Production" runs it (``gunicorn -k sync --backlog 2048
--timeout 30 --graceful-timeout 10``, ``-w 2`` on SQLite and ``-w 4`` on PostgreSQL, on
loopback, a config with fresh keys, ``init-db``; helpers from ``bench/storm.py``). Then
``--connections`` simulated workers, each with its own openid, open their connections at
the same moment and send their conversation
(``bench/storm_conversation.py``: a greeting, a benefits question, ``帮扶``, ``1``, ...)
through the signed ``/wechat`` webhook, one message after the other, each on a fresh
connection (sync workers close it after the answer). A raw asyncio client stamps every
request ``X-Request-Start: t=<epoch seconds.ms>`` as it connects, as the reverse proxy
would, and times it to the last byte of the answer. Nothing is re-sent: a 5xx or an
error is counted, not retried.

Then gunicorn is stopped, the fake WeChat and ``unionbot worker`` started, the outbox
drained, and each reply queued for a delivery answered ``success`` (status ``deferred``)
is looked for among the fake's customer-service sends: delivered once, more than once,
or lost. Prints a table row; exits 1 on an answer over 5 s, a 5xx, an error, a
deferred reply lost or sent twice, or a ``success`` with no reply to follow it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from sqlalchemy import select
from storm import (
    WECHAT_PATIENCE,
    busy_elsewhere,
    configure,
    free_port,
    gunicorn_command,
    percentile,
    settle,
    spawn,
    stop,
    stored,
    wait_until_up,
)
from storm_conversation import MAX_MESSAGES, lines
from webhook import emptied

from bot.config import load_settings
from bot.simulator import Simulator
from models import OutboxMessage
from models.database import make_engine, make_session_factory

# As README's "Production" sets them: one per core on SQLite, two per core on PostgreSQL.
WEB_WORKERS = {"SQLite": 2, "PostgreSQL": 4}
PRODUCTION = ("--backlog", "2048", "--timeout", "30", "--graceful-timeout", "10")
TIMEOUT = 60.0  # an answer is waited for this long: late ones are measured, not dropped
DONE = ("sent", "failed", "dead")  # outbox statuses a drainer no longer works on


@dataclass
class Request:
    openid: str
    msg_id: int
    path: str
    body: bytes
    status: int = 0  # 0: no answer (connection error or timeout)
    answer: bytes = b""
    stamp: float = 0.0  # X-Request-Start, epoch seconds
    seconds: float = 0.0
    error: str = ""


def plan(env: dict, connections: int, messages: int, prefix: str, seed: int) -> list[list[Request]]:
    """Each simulated worker's signed requests, in the order it sends them."""
    settings = load_settings(env["UNIONBOT_CONFIG"], env=env)
    sim = Simulator(settings.wechat, transport=None, encrypt=False)
    rng = random.Random(seed)  # noqa: S311 (repeatable conversations, not secrets)
    workers = []
    for n in range(connections):
        openid, mine = f"{prefix}{n}", []
        for line in lines(rng, messages):
            msg_id = sim.next_msg_id()
            params, body = sim.signed_params(sim.text_xml(openid, line.text, msg_id))
            mine.append(Request(openid, msg_id, f"/wechat?{urlencode(params)}", body))
        workers.append(mine)
    return workers


async def post(port: int, request: Request, stamped: bool) -> None:
    """One request on its own connection, stamped as it leaves, read to the end."""
    began, request.stamp = time.perf_counter(), time.time()
    proxy = f"X-Request-Start: t={request.stamp:.3f}\r\n" if stamped else ""
    head = (
        f"POST {request.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: text/xml\r\nContent-Length: {len(request.body)}\r\n"
        f"{proxy}Connection: close\r\n\r\n"
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head.encode() + request.body)
            raw = await reader.read()
        writer.close()
    except (OSError, TimeoutError) as error:
        request.error = type(error).__name__
        return
    request.seconds = time.perf_counter() - began
    header, _, request.answer = raw.partition(b"\r\n\r\n")
    request.status = int(header.split(b" ", 2)[1]) if header else 0


async def burst(port: int, workers: list[list[Request]], stamped: bool) -> float:
    """Every worker at once, each sending its messages in turn; returns the wall time."""

    async def play(mine: list[Request]) -> None:
        for request in mine:
            await post(port, request, stamped)

    began = time.perf_counter()
    await asyncio.gather(*(play(mine) for mine in workers))
    return time.perf_counter() - began


def settled(env: dict, prefix: str, answered: int) -> dict:
    """Wait until the web workers have committed a delivery for every answered request
    (an over-budget reply goes on being built after ``success``); (openid, MsgId) -> status."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        deliveries = {(o, m): status for o, m, status, _ in stored(env, prefix)[0]}
        if len(deliveries) >= answered or time.monotonic() > deadline:
            return deliveries
        time.sleep(0.5)


def reply_rows(env: dict, prefix: str) -> list[tuple]:
    """This run's deferred replies in the outbox: (recipient, text, status, sent_via)."""
    engine = make_engine(load_settings(env["UNIONBOT_CONFIG"], env=env).database.url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                select(
                    OutboxMessage.recipient,
                    OutboxMessage.payload,
                    OutboxMessage.status,
                    OutboxMessage.sent_via,
                ).where(OutboxMessage.kind == "reply", OutboxMessage.recipient.startswith(prefix))
            ).all()
    finally:
        engine.dispose()
    return [(openid, payload["text"], status, via) for openid, payload, status, via in rows]


def drain(env: dict, workdir: Path, fake_port: int, prefix: str) -> tuple[list, list, float]:
    """Start the fake WeChat and ``unionbot worker``, wait until no deferred reply is left
    to send; return the outbox rows, the fake's customer-service calls and the time taken."""
    fake_url, servers = f"http://127.0.0.1:{fake_port}", []
    bot = [sys.executable, "-m", "bot"]
    try:
        log = workdir / "fake-wechat.log"
        servers.append(spawn([*bot, "fake-wechat", "--port", str(fake_port)], env, log))
        wait_until_up(fake_url + "/_fake/calls", servers[-1], log)
        began = time.perf_counter()
        servers.append(spawn([*bot, "worker"], env, workdir / "worker.log"))
        deadline = time.monotonic() + 120
        rows = reply_rows(env, prefix)
        while any(status not in DONE for *_, status, _ in rows) and time.monotonic() < deadline:
            time.sleep(0.5)
            rows = reply_rows(env, prefix)
        seconds = time.perf_counter() - began
        time.sleep(1)  # a send the drainer has not yet recorded would show up by now
        calls = requests.get(fake_url + "/_fake/calls", timeout=30).json()["calls"]
    finally:
        for server in reversed(servers):
            stop(server)
    return rows, [c for c in calls if c["path"] == "message/custom/send"], seconds


def delivered(rows: list[tuple], calls: list[dict]) -> dict:
    """Each queued reply against the fake's successful sends of that text to that worker:
    once, sent again (extra sends), or lost; the same text twice to one worker is two."""
    queued = Counter((openid, text) for openid, text, _, _ in rows)
    seen = Counter(
        (c["json"]["touser"], c["json"]["text"]["content"]) for c in calls if c["errcode"] == 0
    )
    return {
        "once": sum(min(n, seen[k]) for k, n in queued.items()),
        "twice": sum(max(0, seen[k] - n) for k, n in queued.items()),
        "lost": sum(max(0, n - seen[k]) for k, n in queued.items()),
        "strays": sum(n for k, n in seen.items() if k not in queued),
        "refused calls": sum(1 for c in calls if c["errcode"] != 0),
        "rows": dict(Counter(f"{status}/{via}" for *_, status, via in rows)),
    }


def said_success(request: Request) -> bool:
    return request.status == 200 and request.answer.strip() == b"success"


def report(connections: int, sent: list, deliveries: dict, found: dict, drained: float) -> bool:
    """Print the table row and the details; True if every check passed."""
    stored_as = {id(r): deliveries.get((r.openid, r.msg_id)) for r in sent}
    success = [r for r in sent if said_success(r)]
    deferred = [r for r in success if stored_as[id(r)] == "deferred"]
    passive = sum(
        1 for r in sent if r.answer.startswith(b"<xml") and stored_as[id(r)] == "deferred"
    )
    ms = sorted(r.seconds * 1000 for r in sent if r.status)
    late = [r for r in sent if r.status and r.seconds > WECHAT_PATIENCE]
    server_errors = sum(1 for r in sent if r.status >= 500)
    errors = Counter(r.error for r in sent if r.error)
    print(
        "| connections | requests | p50 / p99 / max ms | > 5 s | success, deferred "
        "| replies once / twice / lost | 5xx |"
    )
    print("| ---: | ---: | --- | ---: | ---: | --- | ---: |")
    print(
        f"| {connections} | {len(sent)} "
        f"| {percentile(ms, 50):.0f} / {percentile(ms, 99):.0f} / {max(ms, default=0):.0f} "
        f"| {len(late)} | {len(success)}, {len(deferred)} "
        f"| {found['once']} / {found['twice']} / {found['lost']} | {server_errors} |"
    )
    print(
        f"  over 5 s: {len(late)}, of which answered success {sum(map(said_success, late))}; "
        f"deferred deliveries {sum(1 for s in deliveries.values() if s == 'deferred')}, "
        f"answered with a passive reply all the same {passive}; errors {dict(errors)}"
    )
    print(
        f"  outbox replies {found['rows']} drained in {drained:.1f} s; sends to no queued "
        f"reply {found['strays']}, refused {found['refused calls']}"
    )
    failures = late or server_errors or errors or passive or len(success) - len(deferred)
    return not (failures or found["twice"] or found["lost"] or found["strays"])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--connections", type=int, default=300, help="simulated workers at once")
    parser.add_argument("--messages", type=int, default=3, help=f"per worker, 1 to {MAX_MESSAGES}")
    parser.add_argument("--reply-budget", type=float, help="outbox.reply_budget_seconds (4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--web-workers", type=int, help="gunicorn -w (SQLite 2, PostgreSQL 4)")
    parser.add_argument(
        "--no-stamp", action="store_true", help="no X-Request-Start: as without the proxy's stamp"
    )
    args = parser.parse_args()
    if not 1 <= args.messages <= MAX_MESSAGES:
        parser.error(f"--messages must be 1 to {MAX_MESSAGES}")
    return args


def main() -> int:
    args = parse_args()
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        raise SystemExit("gunicorn is missing: pip install -e '.[production]'")
    started, busy = time.perf_counter(), busy_elsewhere()
    workdir = Path(tempfile.mkdtemp(prefix="unionbot-burst-"))
    database = args.database or f"sqlite:///{workdir / 'burst.db'}"
    backend = "PostgreSQL" if database.startswith("postgresql") else "SQLite"
    emptied(database)  # refuses the suite's `test`
    fake_port, port, prefix = free_port(), free_port(), f"o_burst_{int(time.time())}_"
    env = configure(workdir, database, fake_port)
    if args.reply_budget is not None:
        env["UNIONBOT_OUTBOX_REPLY_BUDGET_SECONDS"] = str(args.reply_budget)
    web_workers = args.web_workers or WEB_WORKERS[backend]
    command = gunicorn_command(port, web_workers)
    log = workdir / "gunicorn.log"
    server = spawn([*command[:-1], *PRODUCTION, command[-1]], env, log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", server, log)
        settle(server.pid, web_workers)
        workers = plan(env, args.connections, args.messages, prefix, args.seed)
        wall = asyncio.run(burst(port, workers, not args.no_stamp))
        sent = [request for mine in workers for request in mine]
        answered, began = sum(1 for r in sent if 0 < r.status < 500), time.perf_counter()
        deliveries = settled(env, prefix, answered)
        behind = time.perf_counter() - began
    finally:
        stop(server)
    rows, calls, drain_seconds = drain(env, workdir, fake_port, prefix)
    print(
        f"\n{backend}, gunicorn -k sync -w {web_workers} --backlog 2048, reply budget "
        f"{args.reply_budget or 4} s{', no X-Request-Start' if args.no_stamp else ''}; "
        f"{len(sent)} requests in {wall:.1f} s, the last delivery committed {behind:.1f} s "
        f"after the last answer; machine {busy:.0%} busy before"
    )
    ok = report(args.connections, sent, deliveries, delivered(rows, calls), drain_seconds)
    with (workdir / "requests.tsv").open("w") as out:  # one line a request, for a closer look
        first = min(r.stamp for r in sent)
        for r in sent:
            kind = "success" if said_success(r) else r.answer[:5].decode(errors="replace")
            out.write(f"{r.openid}\t{r.stamp - first:.3f}\t{r.seconds:.3f}\t{r.status}\t{kind}\n")
    print(
        f"  whole run {time.perf_counter() - started:.0f} s; logs, config and requests.tsv "
        f"in {workdir}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
