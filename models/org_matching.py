"""Which union organisation a worker means by what they typed ("开发区工会", "骑手工会").

Workers name their union the way people around them do: a short form, the company
without "工会", a town without "总". Each organisation's name and aliases are reduced
to their distinctive part (no county prefix, no "有限公司", no "工会") and compared
with the answer reduced the same way: equal is certain, one inside the other scores by
how much of the longer it covers, anything else by shared character pairs (bigrams:
Chinese names share their meaningful two-character words, 纺织, 风电, 骑手). A match is
*confident* only when it is strong and clearly ahead of the next; otherwise the worker
picks from the closest few, because a wrong organisation sends the application to
staff who must not see it, while no organisation only sends it to the county.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models.orgs import UnionOrg, all_orgs

# Confident: at least this score, and this far ahead of the next organisation.
CONFIDENT = 0.85
MARGIN = 0.15
# Offered to choose from: at least this score; at most this many.
CANDIDATE = 0.4
MAX_CANDIDATES = 3

# Said of nearly every organisation, so they tell none apart. Longest first, so
# 有限责任公司 goes before 公司 leaves 有限责任 behind.
GENERIC = sorted(
    (
        "江苏省",
        "盐城市",
        "射阳县",
        "射阳",
        "有限责任公司",
        "股份有限公司",
        "有限公司",
        "公司",
        "联合工会",
        "总工会",
        "工会委员会",
        "工会",
        "委员会",
    ),
    key=len,
    reverse=True,
)
SEPARATORS = re.compile(r"[\s\W_]+")


def reduce(name: str) -> str:
    """The distinctive part of a union's name: ``射阳金海纺织有限公司工会`` → ``金海纺织``;
    the whole name where nothing distinctive is left (``射阳县总工会``)."""
    whole = SEPARATORS.sub("", unicodedata.normalize("NFKC", name))
    text = whole
    for word in GENERIC:
        text = text.replace(word, "")
    return text or whole


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def similarity(typed: str, known: str) -> float:
    """How well a reduced answer matches a reduced name, from 0 to 1."""
    if not typed or not known:
        return 0.0
    if typed == known:
        return 1.0
    shorter, longer = sorted((typed, known), key=len)
    if len(shorter) >= 2 and shorter in longer:
        return 0.5 + 0.5 * len(shorter) / len(longer)
    a, b = _bigrams(typed), _bigrams(known)
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


@dataclass(frozen=True)
class Match:
    """What an answer says: ``org`` when confident, else ``candidates`` to choose from
    (empty when nothing comes close: the answer is kept as typed, the county handles it)."""

    org: UnionOrg | None
    candidates: tuple[UnionOrg, ...] = ()


def _score(typed: str, org: UnionOrg) -> float:
    names = [org.name, *org.matching.get("aliases", ())]
    return max(similarity(typed, reduce(name)) for name in names)


def match_union(session: Session, answer: str) -> Match:
    """The organisation ``answer`` names, or the few it may name."""
    typed = reduce(answer)
    scored = sorted(
        ((_score(typed, org), org) for org in all_orgs(session)),
        key=lambda pair: (-pair[0], pair[1].position),
    )
    scored = [(score, org) for score, org in scored if score >= CANDIDATE]
    if not scored:
        return Match(None)
    best, org = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    # One organisation's own name or alias, exactly, is certain whatever else is close.
    if (best == 1.0 and runner_up < 1.0) or (best >= CONFIDENT and best - runner_up >= MARGIN):
        return Match(org)
    return Match(None, tuple(org for _, org in scored[:MAX_CANDIDATES]))


def matched_org(session: Session, answer: str | None) -> str | None:
    """The code of the organisation ``answer`` names with certainty, or None.

    A worker who chose from the candidates gave the chosen union's own name, so it
    matches here with certainty; one who chose none of them matches nothing."""
    found = match_union(session, answer).org if answer else None
    return found.code if found is not None else None
