"""Free text that is not a keyword: commands, questions, requests, thanks.

Workers write the way they talk ("孩子考上大学能申请助学吗", "大病救助要什么材料",
"撤回吧", "在哪比", "老板欠了我三个月工资"). Commands come first, with or without a
reference number; then what only a few words can mean (thanks, the office, wages,
retirement, contest dates and results); then a clear benefit; then the programme
and competition aliases (data, not code), longest first so "大病救助" counts for
大病帮扶 rather than "救助" for 困难职工帮扶; a question gets the requirements with
an offer to start, a request starts the form.
"""

from __future__ import annotations

from handlers import aid, applications, benefits, competitions, entries, menu, office, rights
from handlers.context import follow_up
from handlers.cues import (
    APPLY_WORDS,
    asks_event,
    asks_results,
    hardship,
    is_question,
    labour_dispute,
    match_aliases,
    office_question,
    retired,
    small_talk,
)
from handlers.messages import Inbound, Reply, Text
from handlers.picks import wants_reminder
from handlers.state import State
from handlers.text import fold
from models.aid import AidProgramme
from models.catalogue import current
from models.competition import Competition

__all__ = ["GENERIC_AID", "GENERIC_CONTEST", "match_aliases", "understand"]

GENERIC_AID = ("帮扶", "补助", "救济", "补贴申请")
GENERIC_CONTEST = ("竞赛", "比赛", "比武", "技能大赛")
STAFF_WORDS = ("人工", "客服", "真人", "找工作人员", "转人工")
CANCEL_WORDS = ("取消", "不参加", "退出", "不去了", "退赛")


def understand(message: Inbound, state: State) -> list[Reply]:
    """Answer free text: a command, a question, a request; the menu if nothing fits."""
    text = fold(message.text).lower()
    for command in (applications.command, applications.bare_command, entries.cancel_command):
        replies = command(message, state)
        if replies is not None:
            return replies
    if any(word in text for word in STAFF_WORDS):
        return menu.staff_contact(message, state)
    replies = _few_words(message, state, text)
    if replies is not None:
        return replies
    # A clear benefits question wins over aid and contest aliases that share its words
    # (两癌筛查 has 癌, 技能培训 has 电工).
    replies = benefits.confident_answer(message, state)
    if replies is not None:
        return replies
    catalogue = current(state.session)
    aid_match = match_aliases(catalogue.programmes, text)
    contest_match = match_aliases(catalogue.competitions, text)
    if contest_match and (not aid_match or contest_match[0][1] > aid_match[0][1]):
        contest = state.session.get(Competition, contest_match[0][0].code)
        return competition_intent(state, contest, text)
    if aid_match:
        best = state.session.get(AidProgramme, aid_match[0][0].code)
        if any(word in text for word in APPLY_WORDS) and not is_question(text):
            return aid.start_application(state, best)
        return aid.offer_details(state, best, lead=rights.empathy(text))
    replies = benefits.answer_question(message, state) or follow_up(message, state)
    if replies is not None:
        return replies
    if hardship(text):
        [listing] = aid.aid_menu(message, state)
        return [Text(f"{rights.empathy(text)}\n{listing.content}")]
    if any(word in text for word in GENERIC_AID):
        return aid.aid_menu(message, state)
    if any(word in text for word in GENERIC_CONTEST):
        return competitions.competition_list(message, state)
    if wants_reminder(text):
        return [Text("想在哪一项开始时收到提醒？请说名称，例如“金秋助学”，不在受理期的会问您。")]
    return menu.not_understood(message, state)


def _few_words(message: Inbound, state: State, text: str) -> list[Reply] | None:
    """What a few words can only mean: thanks, the office, wages, retirement, contests."""
    if small_talk(text):
        return menu.small_talk_reply(message, state)
    if office_question(text):
        return office.office_info(message, state)
    dispute = labour_dispute(text)
    if dispute:
        return rights.labour_answer(state, dispute)
    if retired(text) and (is_question(text) or any(w in text for w in (*APPLY_WORDS, "帮扶"))):
        return rights.retiree_answer(state)
    if asks_results(text):
        return entries.results(message, state)
    if asks_event(text):
        named = match_aliases(current(state.session).competitions, text)
        contest = state.session.get(Competition, named[0][0].code) if named else None
        replies = entries.my_event(state, contest)
        if replies is not None:
            return replies
        if contest is not None:
            return competitions.show(state, contest)
        return competitions.competition_list(message, state)
    return None


def competition_intent(state: State, competition: Competition, text: str) -> list[Reply]:
    """ "我报了电工比赛，想取消" cancels that sign-up; anything else gets its details."""
    if any(word in text for word in CANCEL_WORDS):
        entry = entries.active_entry(state, competition.code)
        if entry is None:
            return [Text(f"您没有报名“{competition.title}”。回复“我的报名”查看您的报名。")]
        return entries.ask_cancel(state, entry)
    if any(word in text for word in ("报名", "参加", "参赛")) and not is_question(text):
        return competitions.start_signup(state, competition)
    return competitions.show(state, competition)
