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

Two more figures follow the router's possible orders. As planned: the aid and competition
aliases (models/data/aid_programmes.toml, competitions.toml) see the text
first, as ``handlers.intents.understand`` reads them, and a question they
claim never reaches the benefits matcher; it shows which benefit questions
those aliases would take. With ``benefits.confident_answer`` asked first: a
clear benefit match scoring at least CONFIDENT is answered before the aliases.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.benefit_matcher import CONFIDENT, match  # noqa: E402
from handlers.intents import GENERIC_AID, GENERIC_CONTEST, match_aliases  # noqa: E402
from handlers.text import fold  # noqa: E402
from models.aid import AidProgramme  # noqa: E402
from models.benefit import Benefit  # noqa: E402
from models.competition import Competition  # noqa: E402
from models.seed import (  # noqa: E402
    COMPETITION_COLUMNS,
    DATA,
    PROGRAMME_COLUMNS,
    load_benefits,
    load_entries,
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


def claimed_before(
    programmes: list[AidProgramme], contests: list[Competition], question: str
) -> str | None:
    """What the free-text fallback picks before the benefits matcher sees ``question``."""
    text = fold(question).lower()
    aid, contest = match_aliases(programmes, text), match_aliases(contests, text)
    if contest and (not aid or contest[0][1] > aid[0][1]):
        return "competition"
    if aid:
        return f"aid:{aid[0][0].code}"
    if any(word in text for word in GENERIC_AID):
        return "aid:menu"
    if any(word in text for word in GENERIC_CONTEST):
        return "competition"
    return None


def report(title: str, results: list[tuple[str, str, str]], codes: set[str]) -> float:
    by_label: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for question, label, got in results:
        # After routing, a question taken by its own handler is right too.
        right = is_right(label, got, codes) or got == label
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

    programmes = [
        AidProgramme(**row)
        for row in load_entries(DATA / "aid_programmes.toml", "programmes", PROGRAMME_COLUMNS)
    ]
    contests = [
        Competition(**row)
        for row in load_entries(DATA / "competitions.toml", "competitions", COMPETITION_COLUMNS)
    ]
    routed = [
        (q, label, claimed_before(programmes, contests, q) or got) for q, label, got in matcher
    ]
    report("routed: aid and competition aliases first, then the benefits matcher", routed, codes)

    confident_first = []
    for q, label, got in matcher:
        first = verdict(entries, q, confident_only=True)
        picked = first if first != "none" else claimed_before(programmes, contests, q) or got
        confident_first.append((q, label, picked))
    report(
        f"routed: a clear benefit match scoring >= {CONFIDENT} first, then the aliases, "
        "then the benefits matcher",
        confident_first,
        codes,
    )
    print(f"benefits matcher top-1 accuracy: {figure:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
