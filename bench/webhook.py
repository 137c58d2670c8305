"""unionbot's webhook against its peers, in one run: throughput, latency, server CPU.

Starts on loopback, each under ``gunicorn -w 2 -k sync``:

* ``bare``: Flask + wechatpy that verifies the signature, parses and replies;
* ``insert``: the same plus one SQLAlchemy insert with UNIQUE(key) on SQLite (WAL);
* ``unionbot``: the app as in production, on SQLite (and on PostgreSQL with
  ``--database``: a database of its own, emptied first; never the suite's ``test``).

Then runs them interleaved, ``--rounds`` times for ``--seconds`` each, with wrk
(Debian's ``wrk``, a C load generator that leaves the server most of the two
cores) at ``--connections``. wrk's Lua script posts pre-signed messages from a
file written just before each run: greetings, benefit questions, menu clicks,
answers to the 困难职工帮扶 form and 10 % re-deliveries of a message already sent.
Server CPU is gunicorn's (master and workers) per request. Prints the table and
unionbot's ratios to the peers.

    python bench/webhook.py [--rounds 3] [--seconds 8] [--connections 16]
    createdb -h 127.0.0.1 -U postgres webhookbench
    python bench/webhook.py --database postgresql+psycopg://postgres@127.0.0.1:5432/webhookbench
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, Response, request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from storm import (
    busy_elsewhere,
    configure,
    free_port,
    server_cpu,
    settle,
    spawn,
    stop,
    wait_until_up,
)
from storm_conversation import QUESTIONS
from wechatpy import create_reply, parse_message
from wechatpy.utils import check_signature

from bot.config import WeChatSettings
from bot.simulator import HttpTransport, Simulator
from models.database import make_engine
from models.migrate import recreate

TOKEN = "stormtoken"  # noqa: S105 (the token bench/storm.py configure() writes)
GREETINGS = ("你好", "您好", "在吗")
CLICKS = ("BENEFITS", "AID", "COMPETITION", "HELP")
FORM_WORKERS = 100  # workers put in the 困难职工帮扶 form before the runs
TO_FORM = ("帮扶", "1", "申请", "同意")
NAMES = ("李梅", "王芳", "张伟", "刘洋")
REDELIVERED = 0.10
LUA = """
local lines, counter, step = {}, 0, 1
local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do
    local path, body = line:match("^([^\\t]*)\\t(.*)$")
    table.insert(lines, wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body))
  end
  step = tonumber(args[2])
  counter = offset
end
function request()
  local r = lines[(counter % #lines) + 1]
  counter = counter + step
  return r
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout,
    e.status))
end
"""


def _app(store: Callable[[object], None] | None = None) -> Flask:
    app = Flask("peer")

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/wechat")
    def deliver():
        try:
            check_signature(
                TOKEN, request.args["signature"], request.args["timestamp"], request.args["nonce"]
            )
        except Exception:  # wechatpy's InvalidSignatureException, or a missing argument
            return Response("forbidden", 403)
        message = parse_message(request.get_data())
        if store is not None:
            store(message)
        return Response(create_reply("收到", message).render(), mimetype="application/xml")

    return app


def bare_app() -> Flask:
    """The floor: verify, parse, reply (gunicorn loads it as ``webhook:bare_app()``)."""
    return _app()


def insert_app() -> Flask:
    """The floor plus the least a stateful bot must do: store each delivery once."""
    engine = create_engine(f"sqlite:///{os.environ['BENCH_DB']}")

    @event.listens_for(engine, "connect")
    def _wal(connection, _record):
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.execute("PRAGMA synchronous=NORMAL")

    table = Table(
        "deliveries",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("key", String(200), unique=True, nullable=False),
        Column("content", String(4000)),
    )
    table.metadata.create_all(engine)

    def store(message) -> None:
        key = f"{message.source}:{message.id or message.create_time}:{message.type}"
        try:
            with engine.begin() as connection:
                content = getattr(message, "content", None)
                connection.execute(insert(table).values(key=key, content=content))
        except IntegrityError:
            pass  # a re-delivery: answered again, stored once

    return _app(store)


def write_messages(path: Path, count: int, rng: random.Random, run: str) -> None:
    """``count`` signed requests, one per line (path TAB body), in the mix above."""
    sim = Simulator(WeChatSettings(token=TOKEN), transport=None)
    sent: list[bytes] = []
    with path.open("w") as out:
        for n in range(count):
            roll = rng.random()
            if sent and roll < REDELIVERED:
                body = rng.choice(sent[-50:])  # WeChat re-delivers within seconds
            else:
                openid = f"o_bench_{run}_{n % 3000}"
                kind = rng.random()
                if kind < 0.10:
                    openid = f"o_form_{rng.randrange(FORM_WORKERS)}"
                    body = sim.text_xml(openid, rng.choice(NAMES))
                elif kind < 0.45:
                    body = sim.text_xml(openid, rng.choice(GREETINGS))
                elif kind < 0.80:
                    body = sim.text_xml(openid, rng.choice(list(QUESTIONS)))
                else:
                    body = sim.event_xml(openid, "CLICK", rng.choice(CLICKS))
                sent.append(body)
            params, body = sim.signed_params(body)
            out.write(f"/wechat?{urlencode(params)}\t{body.decode()}\n")


@dataclass
class Target:
    name: str
    url: str
    process: subprocess.Popen
    expected: float = 3000.0  # req/s, to size the next run's messages
    runs: list[dict] = field(default_factory=list)


def gunicorn(port: int, workers: int, app: str, env: dict, log: Path) -> subprocess.Popen:
    binary = Path(sys.executable).with_name("gunicorn")
    command = [str(binary), "--no-control-socket", "-w", str(workers), "-k", "sync"]
    command += ["-b", f"127.0.0.1:{port}", "--pythonpath", str(Path(__file__).parent), app]
    return spawn(command, env, log)


def start(name: str, app: str, env: dict, workdir: Path, workers: int) -> Target:
    port = free_port()
    log = workdir / f"{name}.log"
    process = gunicorn(port, workers, app, env, log)
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log)
    settle(process.pid, workers)
    return Target(name, f"http://127.0.0.1:{port}", process)


def emptied(url: str) -> None:
    """Start from an empty database (init-db then migrates and seeds it with fresh keys)."""
    if make_url(url).database == "test":
        raise SystemExit("not the suite's database `test`: create one for the benchmark")
    engine = make_engine(url)
    recreate(engine)
    engine.dispose()


def into_the_form(target: Target) -> None:
    """Bring the form workers to the form's questions, so their answers are form answers."""
    sim = Simulator(WeChatSettings(token=TOKEN), HttpTransport(target.url), pace_seconds=5)
    for n in range(FORM_WORKERS):
        for line in TO_FORM:
            sim.send_text(f"o_form_{n}", line)


def run_once(target: Target, args, workdir: Path, rng: random.Random, run: str) -> dict:
    messages = workdir / "messages.txt"
    write_messages(messages, int(target.expected * args.seconds * 1.5) + 500, rng, run)
    script = workdir / "mix.lua"
    script.write_text(LUA)
    threads = 2
    command = ["wrk", f"-t{threads}", f"-c{args.connections}", f"-d{args.seconds}s"]
    command += ["--timeout", "10s", "-s", str(script), target.url, "--", str(messages), "2"]
    cpu = server_cpu(target.process.pid)
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"wrk failed on {target.name} ({done.returncode}): {done.stderr[-2000:]}")
    output = done.stdout
    cpu = server_cpu(target.process.pid) - cpu
    line = next(row for row in output.splitlines() if row.startswith("RESULT"))
    requests, duration, p50, p99, errors, bad = (int(v) for v in line.split()[1:])
    rate = requests / (duration / 1e6)
    target.expected = rate
    return {
        "rps": rate,
        "p50": p50 / 1000,
        "p99": p99 / 1000,
        "cpu": cpu * 1000 / max(requests, 1),
        "errors": errors + bad,
    }


def spread(values: list[float], digits: int = 0) -> str:
    low, high = min(values), max(values)
    return (
        f"{low:,.{digits}f}"
        if round(low, digits) == round(high, digits)
        else (f"{low:,.{digits}f}–{high:,.{digits}f}")
    )


def report(targets: list[Target], args, busy: float) -> None:
    print(
        f"\n{args.rounds} rounds × {args.seconds} s, {args.connections} connections, "
        f"gunicorn -w {args.workers} -k sync; machine busy {busy:.0%} before the runs\n"
    )
    print("| target | req/s | p50 ms | p99 ms | server CPU ms/request | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for t in targets:
        runs = t.runs
        print(
            f"| {t.name} | {spread([r['rps'] for r in runs])} "
            f"| {spread([r['p50'] for r in runs], 1)} | {spread([r['p99'] for r in runs], 1)} "
            f"| {spread([r['cpu'] for r in runs], 2)} | {sum(r['errors'] for r in runs)} |"
        )
    peers = {t.name: statistics.median(r["rps"] for r in t.runs) for t in targets}
    for t in targets:
        if t.name.startswith("unionbot"):
            print(
                f"\n{t.name}: {peers[t.name] / peers['bare']:.2f}× bare, "
                f"{peers[t.name] / peers['insert']:.2f}× bare + insert (median req/s)",
                end="",
            )
    print()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", help="also run unionbot on this PostgreSQL database")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    rng = random.Random(15)  # noqa: S311 (benchmark messages, not secrets)
    busy = busy_elsewhere()
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="webhookbench-") as tmp:
        workdir = Path(tmp)
        try:
            env = {**os.environ, "BENCH_DB": str(workdir / "insert.db")}
            targets.append(start("bare", "webhook:bare_app()", env, workdir, args.workers))
            targets.append(start("insert", "webhook:insert_app()", env, workdir, args.workers))
            databases = {"unionbot SQLite": f"sqlite:///{workdir / 'unionbot.db'}"}
            if args.database:
                databases["unionbot PostgreSQL"] = args.database
            for name, url in databases.items():
                emptied(url)
                home = workdir / name.split()[1]
                home.mkdir()
                env = configure(home, url, free_port())
                app = "bot:create_app()"
                targets.append(start(name, app, env, workdir, args.workers))
                into_the_form(targets[-1])
            for number in range(args.rounds):
                for target in targets:
                    result = run_once(target, args, workdir, rng, f"{number}{target.name[:1]}")
                    target.runs.append(result)
                    print(f"round {number + 1} {target.name}: {result}", flush=True)
        finally:
            for target in targets:
                stop(target.process)
        report(targets, args, busy)


if __name__ == "__main__":
    main()
