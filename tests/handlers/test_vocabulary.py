"""handlers/vocabulary.py: the words workers answer with never mean two things."""

from __future__ import annotations

import pytest

from handlers import vocabulary as v
from handlers.text import keyword
from handlers.validators import consent, yes_no

SETS = {
    "YES": v.YES,
    "NO": v.NO,
    "AFFIRM": v.AFFIRM,
    "DENY": v.DENY,
    "KEEP": v.KEEP,
    "SUBMIT": v.SUBMIT,
    "GO": v.GO,
    "CONTROLS": frozenset(v.CONTROLS),
    "FINISH_PROOFS": v.FINISH_PROOFS,
    "SKIP_PROOFS": v.SKIP_PROOFS,
    "NOTHING": v.NOTHING,
    "NOT_NAMES": v.NOT_NAMES,
    "UNCHANGED": v.UNCHANGED,
}


def test_no_word_is_both_yes_and_no():
    assert sorted(v.YES & v.NO) == []


def test_affirm_and_deny_are_disjoint_and_extend_yes_and_no():
    assert sorted(v.AFFIRM & v.DENY) == []
    assert v.YES <= v.AFFIRM
    assert v.NO <= v.DENY


ANSWERS = (
    v.AFFIRM
    | v.DENY
    | v.KEEP
    | v.SUBMIT
    | v.GO
    | v.UNCHANGED
    | v.FINISH_PROOFS
    | v.SKIP_PROOFS
    | v.NOTHING
)


@pytest.mark.parametrize("word", sorted(ANSWERS))
def test_no_answer_word_reads_as_a_control(word):
    # Controls are looked for before the answer: 不用了 must stay a no, 好了 a finish.
    assert v.control_in(word, strict=False) is None


@pytest.mark.parametrize(
    "phrase", sorted({p for _, phrases in v.CONTROL_PHRASES for p in phrases} | set(v.CONTROLS))
)
def test_control_phrases_are_not_answers(phrase):
    assert phrase not in ANSWERS


def test_every_control_word_does_something_known():
    assert set(v.CONTROLS.values()) == {v.CANCEL, v.RESTART, v.BACK, v.HANDOFF, v.RESUME}


def test_submitting_and_going_are_never_refusals():
    assert sorted(v.SUBMIT & v.DENY) == []
    assert sorted(v.GO & v.DENY) == []
    assert sorted(v.KEEP & (v.YES | v.SUBMIT)) == []


def test_finishing_and_skipping_the_photos_are_told_apart():
    assert sorted(v.FINISH_PROOFS & v.SKIP_PROOFS) == []


def test_nothing_is_never_a_yes():
    # An optional question answered 无 / 没有 is empty, as a yes/no question takes it as no.
    assert {word for word in v.NOTHING if word in v.AFFIRM} == set()


def test_reply_words_are_not_names():
    assert v.AFFIRM | v.DENY | v.SUBMIT <= v.NOT_NAMES


@pytest.mark.parametrize(("name", "words"), SETS.items())
def test_words_are_stored_as_they_are_compared(name, words):
    # Every place compares keyword(text); a word that keyword() changes could never match.
    assert {word for word in words if keyword(word) != word} == set(), name


def test_the_yes_no_validators_follow_the_vocabulary():
    for word in v.AFFIRM:
        assert yes_no(word) is True
    for word in v.DENY:
        assert yes_no(word) is False
    for word in v.YES | {"同意"}:
        assert consent(word) is True
    for word in v.NO | {"不同意"}:
        assert consent(word) is False


def test_no_set_holds_an_empty_word():
    # keyword("") of an empty message must never count as an answer.
    assert "" not in frozenset().union(*SETS.values())
