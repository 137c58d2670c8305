"""The webhook's work per message, one kind at a time, counted rather than timed by the wall.

Every message goes through the real ``/wechat`` webhook (signed XML, the Flask test
client, the intake transaction, the handlers) on a fresh SQLite database. For each
kind it prints the SQL statements, JSON decodes and benefit-matcher scorings per
message, and the process CPU time per message (``time.process_time``: other work on
the machine hardly moves it, unlike wall time). ``--profile KIND`` prints the
cProfile of that kind's messages.

    python bench/hot_path.py [--messages 300] [--profile benefit [--sort tottime]]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import replace
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import handlers.benefit_matcher as matcher
from bot import create_app
from bot.config import load_settings
from bot.simulator import FlaskTransport, Simulator
from models.database import make_engine
from models.migrate import recreate
from models.seed import seed_catalogue

QUESTIONS = ("高温补贴一个月多少钱", "怎么加入工会", "会员卡有什么用", "职工书屋在哪里")
# The lines that bring a worker to the 困难职工帮扶 form's name question.
TO_NAME_QUESTION = ("帮扶", "1", "申请", "同意")


class Counting:
    """Counts SQL statements, JSON decodes and matcher scorings while it is on."""

    def __init__(self, engine):
        self.counts: Counter[str] = Counter()
        self.on = False
        event.listen(engine, "before_cursor_execute", self._statement)
        self._loads, self._score = json.loads, matcher.score_entries
        json.loads = self._wrap("json", self._loads)
        matcher.score_entries = self._wrap("matcher", self._score)

    def _statement(self, *_args):
        if self.on:
            self.counts["sql"] += 1

    def _wrap(self, name: str, function: Callable) -> Callable:
        def counted(*args, **kwargs):
            if self.on:
                self.counts[name] += 1
            return function(*args, **kwargs)

        return counted


class Inline(Executor):
    """Runs the intake on the request's thread, so cProfile (one thread) sees it."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def build(directory: Path, inline: bool):
    url = f"sqlite:///{directory / 'hot-path.db'}"
    engine = make_engine(url)
    recreate(engine)
    with Session(engine) as session, session.begin():
        seed_catalogue(session)
    engine.dispose()
    settings = load_settings(
        env={},
        overrides={
            "wechat": {"token": "benchtoken", "app_id": "wxbench0000000000", "app_secret": "s"},
            "database": {"url": url},
            "security": {"secret_key": "bench-secret-key-0123456789"},
            "scheduler": {"enabled": False},
        },
    )
    app = create_app(settings)
    if inline:
        runtime = app.extensions["unionbot"]
        app.extensions["unionbot"] = replace(runtime, executor=Inline())
    simulator = Simulator(settings.wechat, FlaskTransport(app.test_client()), pace_seconds=5)
    return app, simulator


def kinds(simulator: Simulator) -> dict[str, tuple[Callable[[int], None], Callable[[int], None]]]:
    """Per kind: what prepares worker ``n`` (not measured) and the message measured."""

    def nothing(n: int) -> None:
        simulator.send_event(f"o_bench_{n}", "subscribe")

    def to_form(n: int) -> None:
        nothing(n)
        for line in TO_NAME_QUESTION:
            simulator.send_text(f"o_bench_{n}", line)

    def checked(answer) -> None:
        if answer.status != 200 or not answer.text or "抱歉" in answer.text:
            raise SystemExit(f"unexpected answer: {answer.status} {answer.text[:80]!r}")

    return {
        "greeting": (nothing, lambda n: checked(simulator.send_text(f"o_bench_{n}", "你好"))),
        "benefit": (
            nothing,
            lambda n: checked(simulator.send_text(f"o_bench_{n}", QUESTIONS[n % len(QUESTIONS)])),
        ),
        "click": (
            nothing,
            lambda n: checked(simulator.send_event(f"o_bench_{n}", "CLICK", "BENEFITS")),
        ),
        "form": (to_form, lambda n: checked(simulator.send_text(f"o_bench_{n}", "李梅"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--profile", help="print the cProfile of this kind")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (tottime …)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        app, simulator = build(Path(directory), inline=bool(args.profile))
        counting = Counting(app.extensions["unionbot"].engine)
        print(f"{'kind':<10} {'sql/msg':>8} {'json/msg':>9} {'match/msg':>10} {'cpu ms/msg':>11}")
        for offset, (kind, (prepare, measured)) in enumerate(kinds(simulator).items()):
            workers = range(offset * args.messages, (offset + 1) * args.messages)
            for n in workers:
                prepare(n)
            measured(workers[0])  # warm: the first message loads what later ones reuse
            profile = cProfile.Profile() if kind == args.profile else None
            counting.counts.clear()
            counting.on = True
            started = time.process_time()
            if profile:
                profile.enable()
            for n in workers[1:]:
                measured(n)
            if profile:
                profile.disable()
            cpu = time.process_time() - started
            counting.on = False
            n = len(workers) - 1
            c = counting.counts
            print(
                f"{kind:<10} {c['sql'] / n:>8.1f} {c['json'] / n:>9.1f} "
                f"{c['matcher'] / n:>10.1f} {cpu * 1000 / n:>11.2f}"
            )
            if profile:
                pstats.Stats(profile).sort_stats(args.sort).print_stats(60)
        app.extensions["unionbot"].engine.dispose()


if __name__ == "__main__":
    main()
