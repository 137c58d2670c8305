"""Top-1 accuracy of the benefits matcher on the labelled questions.

    python bench/intent_accuracy.py
    python bench/intent_accuracy.py --questions tests/data/benefit_questions.toml

No database: the catalogue is read from models/data/benefits.toml into
in-memory Benefit objects, and every question goes through
``handlers.benefits.rank`` and ``decide``, as a worker's question would.

A question labelled with a benefit code is right when the reply leads with
that benefit (the one answer, or the first of the offered choices). A
question labelled "none", "aid:…", "competition" or "other" is right when
the matcher gives no answer at all. Prints the accuracy overall and per
label, and every miss.

The second figure is "as routed": every question goes through the real router
(``handlers.router.route``, then the handler it picks) on a temporary SQLite
database seeded with the catalogue, as a new worker's first message; the handler
that answered gives the verdict (see ``routed_verdicts``). So commands, the
office, wages, retirement, the homophone correction, a clear benefit (scoring at
least CONFIDENT) and the aid and competition aliases all act in the order workers
meet them.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.benefit_matcher import match  # noqa: E402
from models.benefit import Benefit  # noqa: E402
from models.seed import (  # noqa: E402
    load_benefits,
)

QUESTIONS = ROOT / "tests" / "data" / "benefit_questions.toml"


def load_cases(path: Path = QUESTIONS) -> list[tuple[str, str]]:
    """(question, label) pairs, in file order."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return [(question, label) for label, questions in data.items() for question in questions]


def catalogue() -> list[Benefit]:
    return [Benefit(**entry, active=True) for entry in load_benefits()]


def verdict(entries: list[Benefit], question: str, confident_only: bool = False) -> str:
    """What the matcher replies: a code, several codes joined by '|', "catalogue" or "none"."""
    found = match(entries, question)
    if confident_only and not found.confident:
        return "none"
    if found.catalogue:
        return "catalogue"
    return "|".join(b.code for b in found.benefits) or "none"


def is_right(label: str, got: str, codes: set[str]) -> bool:
    """A benefit question is right if the reply leads with it; any other must get no answer."""
    if label in codes:
        return got.split("|")[0] == label
    return got == "none"


# What the real router did, told by the handler that answered. Each wrapper notes its
# verdict the first time it runs; the original is called as usual.
def _tag_benefit(state, benefit, *args, **kwargs):
    return benefit.code


def _tag_offer(state, listed, *args, **kwargs):
    return "|".join(b.code for b in listed)


def _tag_programme(state, programme, *args, **kwargs):
    return f"aid:{programme.code}"


TAGGED = {
    "handlers.benefits": {
        "describe": _tag_benefit,
        "_offer": _tag_offer,
        "benefits_menu": lambda *a, **k: "catalogue",
    },
    "handlers.aid": {
        "offer_details": _tag_programme,
        "start_application": _tag_programme,
        "aid_menu": lambda *a, **k: "aid:menu",
    },
    "handlers.competitions": dict.fromkeys(
        ("show", "start_signup", "competition_list"), lambda *a, **k: "competition"
    ),
    "handlers.menu": {"not_understood": lambda *a, **k: "none"},
    # Wage arrears and dismissal: the hotline first, then free legal aid (handlers.rights).
    "handlers.rights": {"labour_answer": lambda *a, **k: "hotline|legal_aid"},
}
# A handler the router picks by keyword (the dict holds the function itself).
BY_MODULE = {"handlers.competitions": "competition", "handlers.aid": "aid:menu"}


def routed_verdicts(questions: list[str]) -> list[str]:
    """What the real router (handlers.router.route, as handlers.handle runs it) answers
    each question with: a benefit code (or codes joined by '|'), "catalogue", "aid:<code>",
    "aid:menu", "competition", "none" (the not-understood reply) or "other" (another
    handler: commands, the office, wages, thanks ...).

    Each question is a new worker's first message, on a temporary SQLite database
    seeded with the catalogue; nothing is committed.
    """
    import datetime as dt
    import importlib
    import tempfile

    from sqlalchemy.orm import Session

    from bot.config import load_settings
    from handlers.flows import build
    from handlers.messages import Inbound
    from handlers.router import route
    from handlers.state import State
    from models import crypto
    from models.database import make_engine
    from models.follower import lock_follower
    from models.migrate import upgrade
    from models.seed import seed_catalogue

    verdicts = []
    with tempfile.TemporaryDirectory(prefix="unionbot-intent-") as tmp:
        settings = load_settings(
            env={},
            overrides={
                "wechat": {
                    "token": "benchtoken123",
                    "app_id": "wx1234567890abcdef",
                    "app_secret": "bench-app-secret",
                },
                "database": {"url": f"sqlite:///{tmp}/intent.db"},
                "security": {"secret_key": "bench-secret-key-0123456789"},
                "scheduler": {"enabled": False},
            },
        )
        crypto.install(settings.security.keyring())
        engine = make_engine(settings.database.url)
        upgrade(engine)
        with Session(engine) as session, session.begin():
            seed_catalogue(session)
        flows = build()
        noted: list[str] = []
        originals = []
        for module_name, functions in TAGGED.items():
            module = importlib.import_module(module_name)
            for name, tag in functions.items():
                original = getattr(module, name)
                originals.append((module, name, original))

                def wrapper(*args, _original=original, _tag=tag, **kwargs):
                    noted.append(_tag(*args, **kwargs))
                    return _original(*args, **kwargs)

                setattr(module, name, wrapper)
        try:
            now = dt.datetime.now(dt.UTC)
            for number, question in enumerate(questions):
                noted.clear()
                with Session(engine, expire_on_commit=False) as session:
                    openid = f"o-intent-bench-{number}"
                    state = State(
                        lock_follower(session, openid), None, session, settings, now, flows
                    )
                    message = Inbound(openid, "text", now, text=question, msg_id=number + 1)
                    handler = route(message, state)
                    handler(message, state)
                    session.rollback()
                got = noted[0] if noted else BY_MODULE.get(handler.__module__, "other")
                verdicts.append(got)
        finally:
            for module, name, original in originals:
                setattr(module, name, original)
            engine.dispose()
    return verdicts


def routed_right(label: str, got: str, codes: set[str]) -> bool:
    """As routed: a benefit question must lead with its benefit, an aid or competition
    question must reach its handler; chat ("none") and "other" must get neither a
    benefit, nor an aid programme or competition."""
    if label in codes or label.startswith("aid:") or label == "competition":
        return got.split("|")[0] == label
    return got == "other" or got == "none"


def report(
    title: str, results: list[tuple[str, str, str]], codes: set[str], judge=is_right
) -> float:
    by_label: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for question, label, got in results:
        right = judge(label, got, codes)
        by_label[label].append(right)
        if not right:
            misses.append((question, label, got))
    right_count = sum(sum(v) for v in by_label.values())
    accuracy = right_count / len(results)
    benefit = [r for r in results if r[1] in codes]
    clear = sum(1 for _, label, got in benefit if got == label)
    print(f"== {title}")
    print(f"top-1 accuracy: {accuracy:.1%} ({right_count}/{len(results)})")
    print(f"benefit questions answered at once (no choice list): {clear}/{len(benefit)}")
    for label, marks in by_label.items():
        print(f"  {label:<16} {sum(marks):>3}/{len(marks):<3} {sum(marks) / len(marks):6.1%}")
    if misses:
        print("misses:")
        for question, label, got in misses:
            print(f"  {question}  expected {label}, got {got}")
    print()
    return accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    args = parser.parse_args(argv)
    entries = catalogue()
    codes = {e.code for e in entries}
    cases = load_cases(args.questions)

    matcher = [(q, label, verdict(entries, q)) for q, label in cases]
    figure = report("benefits matcher alone", matcher, codes)

    routed = routed_verdicts([q for q, _ in cases])
    report(
        "as routed: each question through handlers.router, as a worker's first message",
        [(q, label, got) for (q, label), got in zip(cases, routed, strict=True)],
        codes,
        routed_right,
    )
    print(f"benefits matcher top-1 accuracy: {figure:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
