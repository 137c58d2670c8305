"""Matching a worker's question to the benefits catalogue: pure, no database.

Workers do not type the catalogue's titles. They write "老板拖欠三个月工资怎么办",
"会员卡丢了去哪补" or "天太热了单位给不给高温费", so a question is matched by
meaning-bearing pieces rather than by exact keywords:

1. The text is folded (full-width forms, case) and cut into segments at
   punctuation and at stopwords (我, 的, 怎么, 吗, 能 …). Colloquial phrasings
   are folded onto one canonical word first (拖欠工资, 不发工资, 讨薪 → 欠薪), and
   the catalogue's own keywords are read as whole words, so the stopword 能
   is dropped from "能不能" but not from "技能".
2. Each segment gives its character 1-, 2- and 3-grams. A question needs no
   word segmenter: a typo (高温补帖) still shares most of its grams with the
   right word, and a gram that many entries share (申请, 钱) weighs little.
3. Each entry is scored against its title, keywords and sample questions.
   Its score combines how much of the question the entry explains with how
   fully its best-matching phrase appears in the question, and lies in [0, 1].

One entry clearly ahead is the answer; a few close together are a choice;
nothing good enough is no answer (a question about benefits in general asks
for the catalogue). The thresholds are tuned on the labelled questions in
``tests/data/benefit_questions.toml`` (``python bench/intent_accuracy.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from handlers.benefit_words import STOPWORDS, SYNONYMS
from handlers.text import fold
from models.benefit import Benefit
from models.catalogue import BenefitCard, card_of

MAX_CHARS = 200  # a question longer than this is read up to here
# Durations, ages and sums ("三个月", "半年", "30岁", "十几万") say how much, not what about.
QUANTITY = re.compile(
    r"(?:[0-9一二三四五六七八九十两几半百千万]+多?|每)个?(?:月份?|天|年|周|星期|小时|岁|块钱|块|元)"
)
# The decision, tuned on the labelled set: an entry counts if it scores at
# least LOW; those scoring at least CLOSE times the best are close to it; one
# close entry is a clear answer, several are a choice of at most CHOICES.
LOW = 0.3
CLOSE = 0.8
CHOICES = 3
# How much a gram found only in an entry's sample questions counts.
CONTEXT = 0.4
# A clear match at least this good may be answered before the aid and competition
# aliases look at the text (see confident_answer).
CONFIDENT = 0.4
# A question about benefits in general gets the catalogue.
GENERAL = ("福利", "普惠", "权益", "待遇", "有什么服务", "有哪些服务")


@dataclass(frozen=True)
class Entry:
    """What the matcher reads of a benefit: its code and the phrases that point to it."""

    code: str
    words: tuple[str, ...]  # title and keywords: read as whole words
    phrases: tuple[str, ...]  # title, keywords and sample questions: scored against


@dataclass(frozen=True)
class Indexed:
    """One entry's grams: all of them, those of its title and keywords, and per phrase."""

    grams: frozenset[str]
    core: frozenset[str]
    phrases: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Index:
    tokeniser: re.Pattern[str]
    canonical: dict[str, str]
    entries: tuple[Indexed, ...]
    weights: dict[str, float]
    unseen: float  # the weight per character of a gram no entry has


def entry_of(card: BenefitCard) -> Entry:
    words = tuple(w for w in (card.title, *card.keywords) if w)
    return Entry(card.code, words, words + card.questions)


def _norm(text: str) -> str:
    return fold(text).lower()


def build_tokeniser(words: Iterable[str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern reading known words longest first, and the canonical form of each."""
    canonical: dict[str, str] = {}
    for word in words:
        canonical.setdefault(_norm(word), _norm(word))
    for target, variants in SYNONYMS.items():
        canonical[_norm(target)] = _norm(target)
        for variant in variants:
            canonical[_norm(variant)] = _norm(target)
    for word in STOPWORDS:
        canonical.setdefault(word, "")
    known = sorted((w for w in canonical if w), key=lambda w: (-len(w), w))
    alternatives = "|".join(re.escape(w) for w in known)
    pattern = rf"(?P<word>{alternatives})|(?P<latin>[a-z0-9]+)|(?P<char>[^\W_])|."
    return re.compile(pattern, re.S), canonical


def segments(text: str, tokeniser: re.Pattern[str], canonical: dict[str, str]) -> list[str]:
    """The text's meaningful runs: known words, numbers and Latin words alone, other
    letters run together; stopwords and punctuation end a run."""
    found: list[str] = []
    run = ""
    for match in tokeniser.finditer(QUANTITY.sub(" ", _norm(text)[:MAX_CHARS])):
        if match.group("char"):
            run += match.group("char")
            continue
        if run:
            found.append(run)
            run = ""
        word = match.group("word")
        if word and canonical[word]:
            found.append(canonical[word])
        elif match.group("latin"):
            found.append(match.group("latin"))
    if run:
        found.append(run)
    return found


def grams(parts: Iterable[str]) -> frozenset[str]:
    """Character 1- to 3-grams within each segment; a number or Latin word stays whole
    (123456 is not 12351)."""
    found: set[str] = set()
    for part in parts:
        if part.isascii():
            found.add(part)
            continue
        for size in (1, 2, 3):
            found.update(part[i : i + size] for i in range(len(part) - size + 1))
    return frozenset(found)


@lru_cache(maxsize=16)
def build_index(entries: tuple[Entry, ...]) -> Index:
    tokeniser, canonical = build_tokeniser(w for e in entries for w in e.words)

    def read(phrases: Iterable[str]) -> tuple[frozenset[str], ...]:
        return tuple(g for g in (grams(segments(p, tokeniser, canonical)) for p in phrases) if g)

    indexed = []
    for entry in entries:
        phrases = read(entry.phrases)
        core = frozenset().union(*read(entry.words))
        indexed.append(Indexed(frozenset().union(*phrases), core, phrases))
    frequency: dict[str, int] = {}
    for item in indexed:
        for gram in item.grams:
            frequency[gram] = frequency.get(gram, 0) + 1
    count = len(entries)
    # Longer grams say more; grams that many entries share say less.
    weights = {g: len(g) * math.log((count + 1) / (df + 0.5)) for g, df in frequency.items()}
    return Index(tokeniser, canonical, tuple(indexed), weights, math.log((count + 1) / 0.5))


def score_entries(index: Index, text: str) -> list[float]:
    """Each entry's score in [0, 1] for ``text``.

    ``covered``: the share of the question's weight the entry explains.
    ``phrase``: how fully the entry's best-matching phrase appears in the question.
    Grams an entry has only from its sample questions count CONTEXT as much as
    those of its title and keywords: "送外卖的可以加入工会吗" is about joining, and
    a question sharing only "送外卖" with it is not.
    """
    query = grams(segments(text, index.tokeniser, index.canonical))
    if not query:
        return [0.0] * len(index.entries)

    def w(gram: str) -> float:
        return index.weights.get(gram, len(gram) * index.unseen)

    total = sum(w(g) for g in query)
    scores = []
    for item in index.entries:

        def weigh(found: Iterable[str], core: frozenset[str] = item.core) -> float:
            return sum(w(g) * (1.0 if g in core else CONTEXT) for g in found)

        covered = weigh(query & item.grams) / total
        phrase = max((weigh(query & p) / weigh(p) for p in item.phrases), default=0.0)
        scores.append(min(1.0, max(0.0, math.sqrt(covered * phrase))))
    return scores


@dataclass(frozen=True)
class Match:
    """What to reply with: one benefit (a clear answer), several (a choice), none;
    or, for a question about benefits in general, the catalogue."""

    benefits: tuple[Benefit | BenefitCard, ...] = ()
    score: float = 0.0
    catalogue: bool = False

    @property
    def clear(self) -> bool:
        return len(self.benefits) == 1

    @property
    def confident(self) -> bool:
        """Clear and good enough to answer before the aid and competition aliases."""
        return self.clear and self.score >= CONFIDENT


def decide(ranked: Sequence[tuple[Benefit | BenefitCard, float]]) -> list[Benefit | BenefitCard]:
    """The entries to answer with: one (clear), two or three (close), or none.

    Entries scoring at least LOW and CLOSE of the best are close to it.
    """
    if not ranked or ranked[0][1] < LOW:
        return []
    floor = max(LOW, ranked[0][1] * CLOSE)
    return [benefit for benefit, score in ranked[:CHOICES] if score >= floor]


@dataclass(frozen=True, eq=False)
class Matcher:
    """A catalogue's benefits (rows or cards, returned as given) and their index."""

    items: tuple[Benefit | BenefitCard, ...]
    index: Index

    def rank(self, text: str) -> list[tuple[Benefit | BenefitCard, float]]:
        """The entries that share anything with ``text``, best first, with scores in [0, 1]."""
        if not self.items or not text:
            return []
        scores = score_entries(self.index, text)
        order = sorted(range(len(self.items)), key=lambda i: (-scores[i], i))
        return [(self.items[i], scores[i]) for i in order if scores[i] > 0]

    def match(self, text: str) -> Match:
        """Match ``text`` against the catalogue (pure: no database, no state)."""
        ranked = self.rank(text)
        chosen = decide(ranked)
        if chosen:
            return Match(tuple(chosen), ranked[0][1])
        folded = _norm(text)
        return Match(catalogue=bool(self.items) and any(word in folded for word in GENERAL))


@lru_cache(maxsize=1024)
def remembered_match(matcher: Matcher, text: str) -> Match:
    """``matcher.match(text)``, kept per matcher (one per catalogue snapshot) and text:
    the free-text fallback asks twice for one message (a confident answer first, any
    answer later), and many workers ask alike. Only for matchers of frozen cards."""
    return matcher.match(text)


def matcher_for(items: Sequence[Benefit | BenefitCard]) -> Matcher:
    cards = [item if isinstance(item, BenefitCard) else card_of(item) for item in items]
    return Matcher(tuple(items), build_index(tuple(entry_of(card) for card in cards)))


def rank(items: Sequence[Benefit | BenefitCard], text: str) -> list[tuple[Benefit, float]]:
    return matcher_for(items).rank(text)


def match(items: Sequence[Benefit | BenefitCard], text: str) -> Match:
    return matcher_for(items).match(text)
