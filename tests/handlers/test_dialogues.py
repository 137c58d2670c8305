"""Scripted conversations in workers' own words, played through the real signed webhook.

Each file in tests/data/dialogues is one conversation (the format is in its README):
what a worker types, turn by turn, and what must be true at the end (an application
with these answers, a sign-up, nothing submitted, what the reply shows). Every window
is open unless the dialogue closes one; CreateTime is paced 5 s apart, except a double
tap, sent twice with the same CreateTime.

A dialogue that fails because a behaviour is not built yet says so in its file
(``xfail = "<which behaviour>"``); the mark is strict, so it must go once the
behaviour lands. The engine (loading, playing, checking) is bench/understanding.py,
which also prints the figures.
"""

from __future__ import annotations

import datetime as dt
import inspect

import pytest
from sqlalchemy import select

from bench.understanding import (
    FALLBACK_MARKS,
    SUMMARY_MARK,
    Dialogue,
    load_dialogues,
    play,
    prepare,
    question_of,
)
from handlers import form_prompts, menu
from models import AidProgramme

DIALOGUES = load_dialogues()


def case(dialogue: Dialogue):
    marks = [pytest.mark.xfail(reason=dialogue.xfail, strict=True)] if dialogue.xfail else []
    return pytest.param(dialogue, id=dialogue.name, marks=marks)


@pytest.mark.parametrize("dialogue", [case(d) for d in DIALOGUES])
def test_dialogue(dialogue: Dialogue, app, wechat):
    runtime = app.extensions["unionbot"]
    with runtime.session_factory() as session:
        in_season = prepare(session, dialogue)
    if in_season:
        pytest.skip(f"{', '.join(in_season)} in season today: its window cannot be closed")
    played = play(dialogue, wechat, runtime.session_factory)
    assert played.passed, f"{dialogue.title}\n" + "\n".join(played.failures)


class TestTheSet:
    def test_there_are_at_least_forty_conversations(self):
        assert len(DIALOGUES) >= 40

    def test_names_are_unique_and_short_enough_for_an_openid(self):
        names = [d.name for d in DIALOGUES]
        assert len(set(names)) == len(names)
        assert all(len(f"o_{name}_someone") <= 64 for name in names)

    def test_the_fallback_marks_are_the_bots_own_words(self):
        """The counts look for these; a reworded fallback must update them."""
        source = inspect.getsource(menu)
        assert all(mark in source for mark in FALLBACK_MARKS)

    def test_a_re_ask_is_recognised_by_the_forms_own_prompt(self):
        source = inspect.getsource(form_prompts)
        assert SUMMARY_MARK in source and "【{form.title} {position}/" in source
        first = "【大病帮扶申请 4/19】\n请输入联系手机号（11位）。\n（…）"
        again = "手机号应为1开头的11位数字。\n" + first
        assert question_of(again) == question_of(first) is not None
        assert question_of("已收到第1张。") is None

    @pytest.mark.parametrize(
        ("today", "in_season"), [(dt.date(2026, 11, 29), []), (dt.date(2026, 7, 10), ["jinqiu"])]
    )
    def test_a_closed_window_stays_as_seeded_or_says_it_is_in_season(self, app, today, in_season):
        closing = Dialogue(name="closing", title="", turns=(), end={}, closed=("jinqiu",))
        with app.extensions["unionbot"].session_factory() as session:
            assert prepare(session, closing, today) == in_season
            windows = dict(session.execute(select(AidProgramme.code, AidProgramme.opens)).all())
        assert windows["hardship"] is None  # the others are open all year
        # Out of season the seeded window stays; in season it had to move (and the dialogue
        # is skipped).
        assert (windows["jinqiu"] == "07-01") is not bool(in_season)
