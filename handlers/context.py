"""A follow-up question is about what the bot just answered.

After "高温补贴一个月多少钱" a worker asks "室内的有没有", after 金秋助学's details
"要什么材料": the topic is in the previous reply, not in the question. Lists and
single offers keep their own context (:mod:`handlers.picks`); the title of the
last answer (【高温津贴】, 【金秋助学】) is read back from the stored reply, so
nothing extra is kept per worker.
"""

from __future__ import annotations

import re

from handlers import aid, competitions
from handlers.benefits import describe
from handlers.cues import is_question
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from handlers.text import fold
from models.aid import AidProgramme
from models.catalogue import current
from models.competition import Competition
from models.delivery import previous_delivery

TITLE = re.compile(r"【(.+?)】")
SHORT = 15  # a follow-up leans on the last answer; a longer text says its own topic


def follow_up(message: Inbound, state: State) -> list[Reply] | None:
    """The last answer's subject (a benefit, a programme, a competition) answered again,
    for a short question without a topic of its own."""
    text = fold(message.text)
    if state.follower is None or len(text) > SHORT or not (is_question(text) or "？" in text):
        return None
    previous = previous_delivery(state.session, state.follower.id)
    replies = (previous.replies or []) if previous is not None else []
    first = TITLE.search(replies[0].get("content", "")) if replies else None
    if first is None:
        return None
    title = first.group(1)
    catalogue = current(state.session)
    benefit = next((b for b in catalogue.benefits if b.title == title), None)
    if benefit is not None:
        return [Text("还是说这一项：\n" + describe(state, benefit))]
    programme = next((p for p in catalogue.programmes if p.title == title), None)
    if programme is not None:
        return aid.offer_details(state, state.session.get(AidProgramme, programme.code))
    contest = next((c for c in catalogue.competitions if c.title == title), None)
    if contest is not None:
        return competitions.show(state, state.session.get(Competition, contest.code))
    return None
