"""Free text that is not a keyword: commands with a reference number, questions, requests.

Workers write the way they talk ("孩子考上大学能申请助学吗", "大病救助要什么材料").
A programme is recognised by its aliases (data, not code), longest first so
"大病救助" counts for 大病帮扶 rather than "救助" for 困难职工帮扶; a question gets
the requirements with an offer to start, a request starts the form.
"""

from __future__ import annotations

from typing import TypeVar

from handlers import aid, applications, benefits, competitions, menu
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from handlers.text import fold
from models.aid import AidProgramme, programmes
from models.competition import Competition
from models.competition import competitions as all_competitions

Named = TypeVar("Named", AidProgramme, Competition)

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
GENERIC_CONTEST = ("竞赛", "比赛", "比武", "技能大赛")
STAFF_WORDS = ("人工", "客服", "真人", "找工作人员", "转人工")
CANCEL_WORDS = ("取消", "不参加", "退出", "不去了", "退赛")


def is_question(text: str) -> bool:
    return any(word in text for word in QUESTION_WORDS)


def match_aliases(listed: list[Named], text: str) -> list[tuple[Named, int]]:
    """Items (programmes, competitions) whose aliases appear in ``text``, best first.

    Longer aliases are taken first and their text consumed, so "大病救助" does not
    also count as "救助".
    """
    aliases = sorted(
        (
            (alias, n)
            for n, item in enumerate(listed)
            for alias in item.definition.get("aliases", ())
        ),
        key=lambda pair: -len(pair[0]),
    )
    scores: dict[int, int] = {}
    rest = text
    for alias, n in aliases:
        if alias in rest:
            scores[n] = scores.get(n, 0) + len(alias) * rest.count(alias)
            rest = rest.replace(alias, "\0")
    return [(listed[n], score) for n, score in sorted(scores.items(), key=lambda kv: -kv[1])]


def understand(message: Inbound, state: State) -> list[Reply]:
    """Answer free text: a reference-number command, a status question, an aid question."""
    text = fold(message.text).lower()
    replies = applications.command(message, state)
    if replies is not None:
        return replies
    if "申请" in text and any(word in text for word in STATUS_WORDS):
        return applications.my_applications(message, state)
    replies = competitions.cancel_command(message, state)
    if replies is not None:
        return replies
    if any(word in text for word in STAFF_WORDS):
        return menu.staff_contact(message, state)
    # A clear benefits question wins over aid and contest aliases that share its words
    # (两癌筛查 has 癌, 技能培训 has 电工).
    replies = benefits.confident_answer(message, state)
    if replies is not None:
        return replies
    aid_match = match_aliases(programmes(state.session), text)
    contest_match = match_aliases(all_competitions(state.session), text)
    if contest_match and (not aid_match or contest_match[0][1] > aid_match[0][1]):
        return competition_intent(state, contest_match[0][0], text)
    if aid_match:
        best = aid_match[0][0]
        if any(word in text for word in APPLY_WORDS) and not is_question(text):
            return aid.start_application(state, best)
        return aid.offer_details(state, best)
    replies = benefits.answer_question(message, state)
    if replies is not None:
        return replies
    if any(word in text for word in GENERIC_AID):
        return aid.aid_menu(message, state)
    if any(word in text for word in GENERIC_CONTEST):
        return competitions.competition_list(message, state)
    return menu.not_understood(message, state)


def competition_intent(state: State, competition: Competition, text: str) -> list[Reply]:
    """ "我报了电工比赛，想取消" cancels that sign-up; anything else gets its details."""
    if any(word in text for word in CANCEL_WORDS):
        entry = competitions.active_entry(state, competition.code)
        if entry is None:
            return [Text(f"您没有报名“{competition.title}”。回复“我的报名”查看您的报名。")]
        return competitions.ask_cancel(state, entry)
    if any(word in text for word in ("报名", "参加", "参赛")) and not is_question(text):
        return competitions.start_signup(state, competition)
    return competitions.show(state, competition)
