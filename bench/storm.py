"""Campaign-day storm: many workers message the production set-up at once, WeChat
re-delivers half of it, and afterwards every message must be stored exactly once.

    python bench/storm.py                        # SQLite, 300 workers x 8 messages, 4 web workers
    python bench/storm.py --kill                 # and SIGKILL one web worker mid-storm
    python bench/storm.py --database postgresql+psycopg://postgres@127.0.0.1:5432/storm

The set-up is production's: a config file with fresh keys from ``unionbot gen-key``,
``unionbot init-db``, gunicorn with sync workers on loopback, and a fake WeChat as the
API base so that nothing can reach the real one. Each simulated worker is a thread with
its own openid that sends its conversation (``bench/storm_conversation.py``) in order
through the signed ``/wechat`` webhook, in plaintext mode, each message once the previous
one is answered and with no pause (the storm). Half of the messages are re-delivered
three more times with the same MsgId and a fresh signature, as WeChat retries: half of
those together with the original, half right after its answer, racing the worker's next
message. Like WeChat, a copy that fails (connection error or 5xx) is sent again, up to
three times.

Checked afterwards: every message stored exactly once, all copies of a message answered
alike, no apology, each reply the one expected, and each worker's draft holding exactly
the answers sent. Exits 1 if any check fails. A PostgreSQL database must exist
(``createdb``); it is migrated, not emptied, and only this run's workers are checked.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.engine import make_url
from storm_conversation import MAX_MESSAGES, Line, expected_draft, lines

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.simulator import Answer, HttpTransport, Simulator  # noqa: E402
from models import Conversation, Delivery, Follower, crypto  # noqa: E402
from models.database import make_engine, make_session_factory  # noqa: E402

APOLOGY = "系统暂时出了点问题"
RETRIES = 3  # WeChat re-delivers a message it got no answer to three times
SEND_TRIES = 4  # a copy that failed is sent again up to three times
TIMEOUT = 60.0  # longer than WeChat's 5 s: a slow answer is measured, not abandoned
WECHAT_PATIENCE = 5.0  # WeChat drops a callback unanswered after this long


# ---- what the senders saw -------------------------------------------------------------


@dataclass
class Sent:
    """One message and the answers to each of its copies (None: every try failed)."""

    openid: str
    msg_id: int
    line: Line
    answers: list[Answer | None]


@dataclass
class Tally:
    """Counts shared by every sender thread; ``lock`` guards them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    latencies: list[float] = field(default_factory=list)
    server_errors: Counter = field(default_factory=Counter)
    resets: Counter = field(default_factory=Counter)
    messages: list[Sent] = field(default_factory=list)

    def answered(self, status: int, seconds: float) -> None:
        with self.lock:
            self.requests += 1
            self.latencies.append(seconds)
            if status >= 500:
                self.server_errors[status] += 1

    def failed(self, error: Exception) -> None:
        with self.lock:
            self.requests += 1
            self.resets[type(error).__name__] += 1


def post(sim: Simulator, body: bytes, tally: Tally) -> Answer | None:
    """Deliver one copy, freshly signed each try, as WeChat does; None if every try failed."""
    for _ in range(SEND_TRIES):
        began = time.perf_counter()
        try:
            answer = sim.deliver(body)
        except requests.RequestException as error:
            tally.failed(error)
            continue
        tally.answered(answer.status, time.perf_counter() - began)
        if answer.status < 500:
            return answer
    return None


def copies_plan(rng: random.Random) -> str:
    """How WeChat delivers a message: once, or with three retries sent together with the
    original (its answer was slow) or right after it (the answer was lost on the way)."""
    if rng.random() >= 0.5:
        return "once"
    return rng.choice(("together", "after"))


def play(sim: Simulator, openid: str, said: list[Line], plans: list[str], tally: Tally) -> None:
    """Send one worker's messages in order, each after the previous one was answered."""
    late: list[threading.Thread] = []
    for line, plan in zip(said, plans, strict=True):
        body = sim.text_xml(openid, line.text, msg_id := sim.next_msg_id())
        sent = Sent(openid, msg_id, line, [None] * (1 if plan == "once" else 1 + RETRIES))

        def send(copy: int, sent=sent, body=body) -> None:
            sent.answers[copy] = post(sim, body, tally)

        copies = [threading.Thread(target=send, args=(n,)) for n in range(len(sent.answers))]
        if plan == "after":
            send(0)
            copies = copies[1:]
        for copy in copies:
            copy.start()
        if plan == "after":
            late += copies  # still in flight while the next message goes out
        else:
            for copy in copies:
                copy.join()
        with tally.lock:
            tally.messages.append(sent)
    for copy in late:
        copy.join()


# ---- the production set-up ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unionbot(env: dict, *args: str) -> str:
    """Run a ``unionbot`` command as an operator would; stop with its output if it fails."""
    done = subprocess.run(  # noqa: S603 (our own command)
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"unionbot {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def configure(workdir: Path, database: str, fake_port: int) -> dict:
    """Write a production config with fresh keys, migrate and seed through ``init-db``,
    and return the environment every process of the run uses."""
    # The servers run the code next to this script, whatever the venv has installed.
    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "UNIONBOT_DATABASE_URL": database, "PYTHONPATH": path}
    env.pop("UNIONBOT_CONFIG", None)
    keys = unionbot(env, "gen-key")
    config = workdir / "config.toml"
    config.write_text(
        "[wechat]\n"
        'app_id = "wxstorm000000000"\napp_secret = "storm-secret"\ntoken = "stormtoken"\n'
        f'api_base_url = "http://127.0.0.1:{fake_port}/cgi-bin/"\n'
        f"[security]\n{keys}"
        f'[outbox]\nmedia_dir = "{workdir / "media"}"\n'
    )
    env["UNIONBOT_CONFIG"] = str(config)
    unionbot(env, "init-db")
    return env


def spawn(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start a server in its own process group, so that stopping it takes its workers too."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 (our own commands)
            command,
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{url} did not start:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or its workers still booting
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within 30 s")


def gunicorn_command(port: int, workers: int) -> list[str]:
    """README's production command, with sync workers named explicitly."""
    binary = Path(sys.executable).with_name("gunicorn")
    return [
        *(str(binary), "--no-control-socket", "-w", str(workers), "-k", "sync"),
        *("-b", f"127.0.0.1:{port}", "bot:create_app()"),
    ]


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (gunicorn's workers under its master)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in status:
            found.add(int(entry.name))
    return found


def cpu_ticks(pids: set[int]) -> int:
    """User and system CPU time of ``pids`` so far, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def server_cpu(master: int) -> float:
    """CPU seconds gunicorn (master and workers) has used so far."""
    return cpu_ticks(children(master) | {master}) / os.sysconf("SC_CLK_TCK")


def settle(master: int, workers: int) -> None:
    """Wait until every web worker has booted and idles: /healthz answers as soon as one
    has, and the others' imports would otherwise eat the first seconds of the storm."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = children(master)
        before = cpu_ticks(pids)
        time.sleep(0.5)
        if len(pids) == workers and cpu_ticks(pids) - before < 5:
            return


def kill_mid_storm(master: int, tally: Tally, halfway: int, run: dict) -> None:
    """SIGKILL one web worker once half the requests are answered; time its replacement."""
    while tally.requests < halfway:
        time.sleep(0.02)
    before = children(master)
    victim = random.choice(sorted(before))  # noqa: S311 (not security)
    os.kill(victim, signal.SIGKILL)
    killed = time.perf_counter()
    run["killed"] = victim
    while time.perf_counter() - killed < 30:
        now = children(master)
        if victim not in now and len(now) == len(before):
            run["replaced_after"] = time.perf_counter() - killed
            return
        time.sleep(0.05)


# ---- checks in the database ----------------------------------------------------------


def stored(env: dict, prefix: str) -> tuple[list[tuple], dict[str, dict]]:
    """This run's deliveries (openid, MsgId, status, replies) and each worker's
    conversations by flow, decrypted with the run's data key."""
    settings = load_settings(env["UNIONBOT_CONFIG"], env=env)
    crypto.install(settings.security.keyring())
    engine = make_engine(settings.database.url)
    try:
        with make_session_factory(engine)() as session:
            deliveries = session.execute(
                select(
                    Delivery.openid, Delivery.wechat_msg_id, Delivery.status, Delivery.replies
                ).where(Delivery.openid.startswith(prefix))
            ).all()
            drafts: dict[str, dict] = {}
            rows = session.execute(
                select(Follower.openid, Conversation.flow, Conversation.step, Conversation.data)
                .join(Conversation, Conversation.follower_id == Follower.id)
                .where(Follower.openid.startswith(prefix))
            )
            for openid, flow, step, data in rows:
                drafts.setdefault(openid, {})[flow] = (step, data)
    finally:
        engine.dispose()
    return deliveries, drafts


def shape(answer: Answer) -> tuple:
    """What must be the same in every copy's answer: all of it but its CreateTime."""
    if not answer.fields:
        return answer.status, answer.body
    return answer.status, sorted((k, v) for k, v in answer.fields.items() if k != "CreateTime")


def reply_problem(sent: Sent) -> str | None:
    """Why the answers to one message are wrong, or None."""
    answers = [a for a in sent.answers if a is not None]
    if not answers:
        return None  # counted as unanswered
    text = answers[0].text
    if any(shape(a) != shape(answers[0]) for a in answers):
        return f"copies answered differently: {[(a.text or a.body)[:40] for a in answers]}"
    if APOLOGY in text:
        return f"apology: {text[:60]}"
    if not text or sent.line.expect not in text:
        return f"expected {sent.line.expect!r}, got {(text or answers[0].body.decode())[:80]!r}"
    return None


def draft_problem(said: list[Line], flows: dict) -> str | None:
    """How a worker's stored conversation differs from what their messages must leave."""
    expected = expected_draft(said)
    if expected is None:
        return None if "aid" not in flows else f"unexpected aid draft {flows['aid'][0]}"
    if set(flows) != {"aid"}:
        return f"conversations {sorted(flows)}, expected only the aid draft"
    step, data = flows["aid"]
    if (step, data.get("answers")) != expected:
        return f"draft at {step} with {data.get('answers')}, expected {expected}"
    return None


def check(tally: Tally, env: dict, prefix: str, scripts: dict[str, list[Line]]) -> dict:
    """Compare what was sent with what the database holds; return counts and examples."""
    deliveries, drafts = stored(env, prefix)
    sent = {(s.openid, s.msg_id) for s in tally.messages}
    kept = Counter((openid, msg_id) for openid, msg_id, _, _ in deliveries)
    problems: list[str] = []
    wrong = 0
    for message in tally.messages:
        problem = reply_problem(message)
        if problem:
            wrong += 1
            problems.append(
                f"{message.openid} MsgId {message.msg_id} {message.line.text!r}: " + problem
            )
    bad_drafts = 0
    for openid, said in scripts.items():
        problem = draft_problem(said, drafts.get(openid, {}))
        if problem:
            bad_drafts += 1
            problems.append(f"{openid}: {problem}")
    statuses = Counter(status for _, _, status, _ in deliveries)
    apologies = sum(1 for *_, replies in deliveries if APOLOGY in str(replies))
    return {
        "duplicates": sum(n - 1 for n in kept.values()),
        "lost": len(sent - set(kept)),
        "unknown": len(set(kept) - sent),
        "unanswered": sum(1 for s in tally.messages if None in s.answers),
        "wrong replies": wrong,
        "drafts off": bad_drafts,
        "stored apologies": apologies,
        "statuses": dict(statuses),
        "problems": problems,
    }


# ---- the run -------------------------------------------------------------------------


def storm(base_url: str, env: dict, args, prefix: str, master: int) -> tuple[Tally, dict, dict]:
    """Play every worker at once, and kill a web worker half-way if asked. Returns the
    tally, each worker's lines, and the run's facts (duration, CPU used, the kill)."""
    settings = load_settings(env["UNIONBOT_CONFIG"], env=env)
    sim = Simulator(settings.wechat, HttpTransport(base_url, timeout=TIMEOUT), encrypt=False)
    rng = random.Random(args.seed)  # noqa: S311 (a repeatable storm, not security)
    scripts = {f"{prefix}{n}": lines(rng, args.messages) for n in range(args.workers)}
    plans = {openid: [copies_plan(rng) for _ in said] for openid, said in scripts.items()}
    total = sum(1 if p == "once" else 1 + RETRIES for ps in plans.values() for p in ps)
    tally, run = Tally(), {}
    threads = [
        threading.Thread(target=play, args=(sim, openid, said, plans[openid], tally), daemon=True)
        for openid, said in scripts.items()
    ]
    if args.kill:
        threads.append(
            threading.Thread(
                target=kill_mid_storm, args=(master, tally, total // 2, run), daemon=True
            )
        )
    began, client, server = time.perf_counter(), time.process_time(), server_cpu(master)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run["seconds"] = time.perf_counter() - began
    run["client cpu"] = time.process_time() - client
    run["server cpu"] = server_cpu(master) - server  # less what a killed worker had used
    return tally, scripts, run


def busy_elsewhere(seconds: float = 1.0) -> float:
    """The share of the machine's CPU in use before we start anything: on a shared
    machine, what the figures had to compete with."""

    def sample() -> tuple[int, int]:
        ticks = [int(n) for n in Path("/proc/stat").read_text().split()[1:9]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    total, idle = sample()
    time.sleep(seconds)
    total_after, idle_after = sample()
    return 1 - (idle_after - idle) / max(total_after - total, 1)


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else 0


def report(args, backend: str, tally: Tally, found: dict, run: dict) -> None:
    seconds = run["seconds"]
    redelivered = sum(len(s.answers) - 1 for s in tally.messages)
    ms = [v * 1000 for v in tally.latencies]
    rows = [
        ("CPU busy before", f"{run['busy before']:.0%} of {os.cpu_count()} cores (others' work)"),
        (
            "set-up",
            f"{backend}, gunicorn -w {args.web_workers} sync, "
            f"{args.workers} workers x {args.messages} messages"
            + (", --kill" if args.kill else ""),
        ),
        ("messages", len(tally.messages)),
        ("re-deliveries", redelivered),
        ("requests", f"{tally.requests} in {seconds:.1f} s = {tally.requests / seconds:.0f} req/s"),
        ("latency p50/p95/p99", "/".join(f"{percentile(ms, p):.0f}" for p in (50, 95, 99)) + " ms"),
        (
            "CPU per request",
            f"{run['server cpu'] / tally.requests * 1000:.1f} ms gunicorn, "
            f"{run['client cpu'] / tally.requests * 1000:.1f} ms this client",
        ),
        ("answers over 5 s", sum(1 for v in tally.latencies if v > WECHAT_PATIENCE)),
        ("5xx", sum(tally.server_errors.values())),
        ("resets", sum(tally.resets.values())),
        ("duplicates", found["duplicates"]),
        ("lost", found["lost"]),
        ("wrong replies", found["wrong replies"]),
        ("drafts off", found["drafts off"]),
    ]
    if args.kill:
        replaced = run.get("replaced_after")
        rows.append(
            (
                "killed worker",
                f"pid {run.get('killed')}, replaced after "
                + (f"{replaced:.1f} s" if replaced else "(not replaced)"),
            )
        )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    details = {k: found[k] for k in ("unknown", "unanswered", "stored apologies", "statuses")}
    details |= {"5xx": dict(tally.server_errors), "resets": dict(tally.resets)}
    print(f"  details: {details}, WeChat API calls {run.get('api_calls')}")
    for problem in found["problems"][:10]:
        print(f"  ! {problem}")


def failed(tally: Tally, found: dict) -> bool:
    counts = ("duplicates", "lost", "unknown", "unanswered", "wrong replies", "drafts off")
    return bool(
        sum(tally.server_errors.values())
        or any(found[k] for k in counts)
        or found["stored apologies"]
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=300, help="simulated workers (threads)")
    parser.add_argument("--messages", type=int, default=8, help=f"per worker, 1 to {MAX_MESSAGES}")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--kill", action="store_true", help="SIGKILL a web worker mid-storm")
    parser.add_argument("--seed", type=int, default=1, help="for the conversations and retries")
    args = parser.parse_args()
    if args.workers < 1 or args.web_workers < 1:
        parser.error("--workers and --web-workers must be at least 1")
    if not 1 <= args.messages <= MAX_MESSAGES:
        parser.error(f"--messages must be 1 to {MAX_MESSAGES}")
    if args.database and make_url(args.database).database == "test":
        parser.error("the database named test belongs to the test suite, which empties it")
    return args


def main() -> int:
    args = parse_args()
    started, busy = time.perf_counter(), busy_elsewhere()
    workdir = Path(tempfile.mkdtemp(prefix="unionbot-storm-"))
    database = args.database or f"sqlite:///{workdir / 'storm.db'}"
    backend = "PostgreSQL" if database.startswith("postgresql") else "SQLite"
    fake_port, port = free_port(), free_port()
    prefix = f"o_storm_{int(time.time())}_"
    env = configure(workdir, database, fake_port)
    servers = []
    try:
        log = workdir / "fake-wechat.log"
        servers.append(
            spawn([sys.executable, "-m", "bot", "fake-wechat", "--port", str(fake_port)], env, log)
        )
        fake_url = f"http://127.0.0.1:{fake_port}"
        wait_until_up(fake_url + "/_fake/calls", servers[-1], log)
        log = workdir / "gunicorn.log"
        servers.append(spawn(gunicorn_command(port, args.web_workers), env, log))
        wait_until_up(f"http://127.0.0.1:{port}/healthz", servers[-1], log)
        settle(servers[-1].pid, args.web_workers)
        tally, scripts, run = storm(f"http://127.0.0.1:{port}", env, args, prefix, servers[-1].pid)
        run["busy before"] = busy
        run["api_calls"] = len(requests.get(fake_url + "/_fake/calls", timeout=10).json()["calls"])
    finally:
        for server in reversed(servers):
            stop(server)
    found = check(tally, env, prefix, scripts)
    report(args, backend, tally, found, run)
    print(f"  whole run {time.perf_counter() - started:.0f} s; logs and config in {workdir}")
    return 1 if failed(tally, found) else 0


if __name__ == "__main__":
    sys.exit(main())
