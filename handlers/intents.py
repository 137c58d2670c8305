"""Free text that is not a keyword: commands with a reference number, questions, requests.

Workers write the way they talk ("孩子考上大学能申请助学吗", "大病救助要什么材料").
A programme is recognised by its aliases (data, not code), longest first so
"大病救助" counts for 大病帮扶 rather than "救助" for 困难职工帮扶; a question gets
the requirements with an offer to start, a request starts the form.
"""

from __future__ import annotations

from handlers import aid, applications, menu
from handlers.forms import fold
from handlers.messages import Inbound, Reply
from handlers.state import State
from models.aid import AidProgramme, programmes

QUESTION_WORDS = (
    "吗",
    "?",
    "什么",
    "怎么",
    "多少",
    "哪些",
    "哪里",
    "在哪",
    "条件",
    "材料",
    "要求",
    "能不能",
    "可不可以",
    "能否",
    "标准",
    "如何",
    "符合",
    "有没有",
)
APPLY_WORDS = ("申请", "我要", "我想", "办理", "登记", "报名")
STATUS_WORDS = ("进度", "审核到", "到哪", "结果", "怎么样了", "批了", "批下来", "状态")
GENERIC_AID = ("帮扶", "补助", "救济", "补贴申请")


def is_question(text: str) -> bool:
    return any(word in text for word in QUESTION_WORDS)


def match_programmes(listed: list[AidProgramme], text: str) -> list[AidProgramme]:
    """Programmes whose aliases appear in ``text``, best first."""
    aliases = sorted(
        ((alias, p) for p in listed for alias in p.definition.get("aliases", ())),
        key=lambda pair: -len(pair[0]),
    )
    scores: dict[str, int] = {}
    rest = text
    for alias, programme in aliases:
        if alias in rest:
            scores[programme.code] = scores.get(programme.code, 0) + len(alias) * rest.count(alias)
            rest = rest.replace(alias, "\0")
    ranked = sorted(scores, key=lambda code: -scores[code])
    by_code = {p.code: p for p in listed}
    return [by_code[code] for code in ranked]


def understand(message: Inbound, state: State) -> list[Reply]:
    """Answer free text: a reference-number command, a status question, an aid question."""
    text = fold(message.text).lower()
    replies = applications.command(message, state)
    if replies is not None:
        return replies
    if "申请" in text and any(word in text for word in STATUS_WORDS):
        return applications.my_applications(message, state)
    matches = match_programmes(programmes(state.session), text)
    if matches:
        best = matches[0]
        if any(word in text for word in APPLY_WORDS) and not is_question(text):
            return aid.start_application(state, best)
        return aid.offer_details(state, best)
    if any(word in text for word in GENERIC_AID):
        return aid.aid_menu(message, state)
    return menu.not_understood(message, state)
