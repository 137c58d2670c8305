"""The worker's union ("所在工会"), as they name it, matched to the union registry.

The answer decides which union's staff see the application (models.orgs), so it is
never guessed: a name the registry knows for certain goes on without a question; a
name close to a few is answered with those few, numbered, to choose from (or
``都不是``); a name close to none is kept as typed, and the county handles it. The
question waits in the draft like a doubtful answer (``Draft.doubt`` with ``options``):
a number or the union's name picks one, ``都不是`` keeps what was typed, anything
else is taken as a new answer to the same question.

The choice is recorded as the union's own name, which the registry matches with
certainty when the application is submitted (:func:`models.org_matching.matched_org`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.choices import Unclear, pick
from handlers.state import State
from models.form_schema import Field
from models.org_matching import match_union

UNION = "union"  # the field kind whose answers are matched
NONE_OF_THEM = "都不是"
NONE_WORDS = {NONE_OF_THEM: ("都不对", "都没有", "以上都不是", "没有", "不在里面")}


def closest(state: State, field: Field, value: Any) -> list[str]:
    """The names of the unions ``value`` may mean, when the registry is unsure; empty when
    it is sure, or when nothing comes close."""
    if field.kind != UNION or not isinstance(value, str):
        return []
    match = match_union(state.session, value)
    return [] if match.org is not None else [org.name for org in match.candidates]


def question(value: str, options: list[str]) -> str:
    listed = "\n".join(f"{n} {name}" for n, name in enumerate(options, 1))
    return (
        f"您填写的“{value}”是下面哪个工会？请回复数字：\n{listed}\n"
        f"都不是的话请回复“{NONE_OF_THEM}”，按您填写的保留。"
    )


def chosen(doubted: Mapping[str, Any], text: str) -> str | None:
    """The answer a reply to :func:`question` gives: the chosen union's name, the typed
    value for ``都不是``, or None when the reply is a new answer instead."""
    options = doubted["options"]
    try:
        answer = pick(text, [*options, NONE_OF_THEM], NONE_WORDS)
    except Unclear:
        return None
    return doubted["value"] if answer == NONE_OF_THEM else answer
