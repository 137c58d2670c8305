"""Benefits (普惠服务): the catalogue, and answers to questions in workers' own words.

``普惠`` lists the catalogue, numbered; a free-text question is matched by
:mod:`handlers.benefit_matcher`. One benefit clearly ahead gets its answer
(title, answer, who, how, link); a few close together are offered as a
numbered choice; nothing good enough gets None, and the caller says it did
not understand. Numbered lists are answered through :mod:`handlers.picks`.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers import picks
from handlers.benefit_matcher import Match, Matcher, match, matcher_for, rank, remembered_match
from handlers.messages import Inbound, Reply, Text
from handlers.office import office_line
from handlers.state import State
from models.benefit import Benefit, benefits
from models.catalogue import BenefitCard, Catalogue, current

__all__ = [
    "answer_question",
    "benefits",
    "benefits_menu",
    "confident_answer",
    "describe",
    "match",
    "rank",
    "understood",
]

KIND = "benefit"  # numbered lists of benefits, answered through handlers.picks
KEYWORD = "普惠"


def fill(state: State, text: str) -> str:
    """The union's own numbers and office in a staff-written text."""
    union = state.settings.union
    for key, value in (
        ("{hotline}", union.hotline),
        ("{provincial_hotline}", union.provincial_hotline),
        ("{office}", office_line(state)),
        ("{union}", union.name),
    ):
        text = text.replace(key, value)
    return text


def _matcher(catalogue: Catalogue) -> Matcher:
    return matcher_for(catalogue.benefits)


def understood(state: State, text: str) -> Match:
    """What ``text`` asks of the catalogue: one pass per message, however many
    handlers ask (the index is built once per catalogue snapshot)."""
    return remembered_match(current(state.session).derive(_matcher), text)


def describe(state: State, benefit: Benefit | BenefitCard) -> str:
    """The answer card: title, answer, who, how, link; in the middle of a form (a
    question asked aside) only the answer, so the question waiting stays in view."""
    lines = [f"【{benefit.title}】", fill(state, benefit.answer)]
    if state.pending_question:
        return "\n".join(lines)
    if benefit.audience:
        lines.append("对象：" + fill(state, benefit.audience))
    if benefit.how:
        lines.append("办理：" + fill(state, benefit.how))
    if benefit.link:
        lines.append("详情：" + benefit.link)
    lines.append(f"回复“{KEYWORD}”查看全部服务，回复“人工”找工作人员。")
    return "\n".join(lines)


def _offer(state: State, listed: Sequence[BenefitCard]) -> None:
    if state.follower is not None:
        picks.offer(state, KIND, [b.code for b in listed])


def _numbered(listed: Sequence[BenefitCard]) -> list[str]:
    return [f"{number} {benefit.title}" for number, benefit in enumerate(listed, 1)]


def answer_question(message: Inbound, state: State) -> list[Reply] | None:
    """Answer a free-text question from the catalogue; None if nothing fits."""
    found = understood(state, message.text)
    if found.catalogue:
        return benefits_menu(message, state)
    if not found.benefits:
        return None
    if found.clear:
        return [Text(describe(state, found.benefits[0]))]
    _offer(state, found.benefits)
    lines = ["您想问的是哪一项？回复数字查看：", *_numbered(found.benefits)]
    lines.append("都不是的话，请换个说法，或回复“人工”找工作人员。")
    return [Text("\n".join(lines))]


def confident_answer(message: Inbound, state: State) -> list[Reply] | None:
    """The answer if one benefit matches clearly and well; None otherwise.

    For the free-text fallback to ask before the aid and competition aliases:
    "两癌筛查在哪报名" names the 癌 of 大病帮扶 and "住院了医疗互助能报多少" its 住院,
    but they are about a benefit. Aid and competition questions do not score
    this high (see bench/intent_accuracy.py).
    """
    found = understood(state, message.text)
    if found.confident:
        return [Text(describe(state, found.benefits[0]))]
    return None


def benefits_menu(message: Inbound, state: State) -> list[Reply]:
    """``普惠``: the catalogue, numbered; a number shows that service."""
    listed = current(state.session).benefits
    if not listed:
        hotline = state.settings.union.hotline
        return [Text(f"普惠服务正在整理中，请拨打职工服务热线 {hotline} 咨询。")]
    _offer(state, listed)
    lines = ["会员普惠服务，回复数字查看：", *_numbered(listed)]
    lines.append("也可以直接提问，例如“怎么办会员卡”“高温补贴一个月多少钱”。")
    return [Text("\n".join(lines))]


def picked_benefit(state: State, code: str) -> list[Reply]:
    """A number from one of our lists: that service's answer."""
    benefit = current(state.session).benefit(code)
    if benefit is None:
        return [Text(f"这项服务已经下线了，回复“{KEYWORD}”查看最新列表。")]
    return [Text(describe(state, benefit))]
