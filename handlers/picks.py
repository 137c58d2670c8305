"""A numbered list the worker answers with a number (or "申请"/"报名" when one thing was
offered). What picking does for each kind of list is declared in :mod:`handlers.flows`.

When one thing was offered (a programme's card, a contest's details), the offer is
the context of the worker's next words: "申请", "我要申请", "怎么申请" mean *that*
programme, and "提醒我" after a closed one asks to be told when it opens.
"""

from __future__ import annotations

import logging
import re

from handlers.homophones import correct
from handlers.messages import Inbound, Reply
from handlers.state import State
from handlers.text import keyword
from handlers.vocabulary import GO
from models.conversation import end_conversation, save_conversation

FLOW = "pick"
log = logging.getLogger(__name__)

# "怎么申请", "我想报名", "那就申请吧": a way to say "start it" around the verb.
GO_FILLERS = re.compile(
    r"我要|我想|想要|帮我|怎么|怎样|如何|在哪里?|在这里?|可以|能不能|一下|马上|现在"
    r"|那就|那|就|能|吧|呢|啊|呀|吗|了|的|我|要|想|咋|去|下|个|\s"
)
GO_VERBS = frozenset({"申请", "报名", "开始", "办理", "参加", "填", "填表", "办", "登记"})
# "第二个", "选2", "3号": a number said the way people point at a list.
ORDINAL = re.compile(
    r"(?:我要|我选|选|要|就)?第?([0-9一二两三四五六七八九十]{1,3})(?:个|项|条|号|吧)*"
)
CHINESE_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"两": 2}
REMIND = frozenset({"提醒", "通知", "告诉", "提醒我", "通知我", "告诉我"})
REMIND_FILLERS = re.compile(
    r"到时候?|开始了?|好的?|记得|麻烦|请|一声|一下|的时候|那|就|你|吧|了|啊|呀|\s"
)


def offer(state: State, kind: str, codes: list[str]) -> None:
    """Remember what the worker's next number (or go-word for a single offer) picks."""
    data = {"step": "pick", "kind": kind, "codes": codes}
    save_conversation(state.session, state.follower.id, FLOW, data, state.now)


def wants_to_go(word: str) -> bool:
    """ "申请", "我要申请", "怎么申请", "好的": start the one thing just offered."""
    return word in GO or GO_FILLERS.sub("", word) in GO_VERBS


def ordinal(word: str) -> int | None:
    """The position a worker names: "2", "第二个", "选第3项", "十二"; None otherwise."""
    match = ORDINAL.fullmatch(word)
    if match is None:
        return None
    digits = match.group(1)
    if digits.isdecimal():
        return int(digits)
    if "十" in digits:  # 十, 十二, 二十, 二十三
        tens, _, ones = digits.partition("十")
        if (tens and tens not in CHINESE_DIGITS) or (ones and ones not in CHINESE_DIGITS):
            return None
        return CHINESE_DIGITS.get(tens, 1) * 10 + CHINESE_DIGITS.get(ones, 0)
    if len(digits) != 1 or digits not in CHINESE_DIGITS:
        return None
    return CHINESE_DIGITS[digits]


def wants_reminder(word: str) -> bool:
    """ "提醒我", "到时候提醒我", "开始了通知我一声"."""
    return REMIND_FILLERS.sub("", word) in REMIND


def continue_pick(message: Inbound, state: State) -> list[Reply] | None:
    """Run the pick, or let the message be routed as usual; either way the offer ends."""
    data = state.conversation.data
    codes, kind = data.get("codes", []), data.get("kind", "")
    word = correct(keyword(message.text))
    end_conversation(state.session, state.conversation)
    state.conversation = None
    if kind not in state.flows.picks:  # stored before a deploy that dropped the list
        log.error("list kind %r has no handler; routing as usual", kind)
        return None
    picked, go = state.flows.picks[kind]
    number = ordinal(word)
    if number is not None and 1 <= number <= len(codes):
        return picked(state, codes[number - 1])
    if len(codes) == 1 and kind in state.flows.reminds and wants_reminder(word):
        return state.flows.reminds[kind](state, codes[0])
    if len(codes) == 1 and wants_to_go(word):
        return go(state, codes[0])
    return None
