"""A message inside a form that is not its answer: a question, a menu word, thanks.

Workers ask as they fill in ("收入要算退休金吗", "高温补贴多少钱", "要多久能批下来").
Taken as an answer, such a question was refused as a wrong ID number or, at a
free-text question, stored as the reason. So before the form reads a message as
an answer, :func:`consider` asks whether it is one:

* a valid answer is always an answer, except at a free-text question, where any
  text is valid: there only a plain question (ending in ？/吗/呢 …) is an aside;
* a question about the form itself (this question, the privacy notice, how long
  it takes, what to bring) is answered from the form, and the question asked again;
* anything else the bot can answer (a menu word, a benefit, another programme,
  the office, thanks) is handed to the router, which answers it and shows the
  question still waiting (the draft is kept).

Nothing here writes: the form decides what to do with the verdict.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from handlers.benefits import understood
from handlers.cues import (
    APPLY_WORDS,
    SERVICE_WORDS,
    asks_event,
    asks_results,
    command_without_number,
    is_question,
    labour_dispute,
    match_aliases,
    office_question,
    retired,
    small_talk,
)
from handlers.draft import Draft
from handlers.homophones import correct
from handlers.messages import Inbound
from handlers.state import State
from handlers.text import fold, keyword, trimmed
from handlers.validators import FREE_TEXT, RELATIVE_DATES, Invalid, validator_for
from handlers.vocabulary import FINISH_PROOFS, NOTHING, SKIP_PROOFS, SUBMIT
from models.aid import get_programme
from models.catalogue import current
from models.competition import Competition
from models.form_schema import Field, Form
from models.windows import month_day_words

# A plain question: what a free-text answer (a reason, an address) seldom looks like.
PLAIN_QUESTION = re.compile(r"(?:[?？]|[吗呢么嘛])$")
ENDS_AS_QUESTION = re.compile(r"[?？吗呢么嘛]")
EDIT = re.compile(r"(?:修改|改)\s*第?\d+项?")
# At the photo step: the material is not at hand now.
LATER = re.compile(
    r"明天|后天|以后|回头|晚点|晚些|下次|改天|过两天|过几天|等会|待会|稍后|不在身边|不在手边"
    r"|没带|在医院|在家里|拿了再|拿到再|再拍|再发|现在没有|手上没有|手头没有"
)
TIMING = re.compile(r"多久|多长时间|几天|多少天|什么时候|啥时候|几时|哪天")
MONEY = re.compile(r"多少钱|能拿多少|给多少|补多少|补助多少|发多少|标准|金额|能有多少")
MATERIALS = re.compile(r"材料|证明|要带|准备什么|要拍|拍什么|哪些照片|什么照片")
PRIVACY = re.compile(r"信息|隐私|泄露|泄漏|谁看|给谁|安全|保密|身份证号.*(?:干什么|做什么|干啥)")
THIS_QUESTION = re.compile(
    r"这个|这项|这一项|这里|这儿|填什么|怎么填|咋填|写什么|多少字|几个字|填啥"
)
# A form that let a message pass was active a moment before anything answering it saves.
JUST_BEFORE = dt.timedelta(microseconds=1)
# Kinds whose valid answers cannot be anything but the answer, even after a long pause.
UNMISTAKABLE = frozenset({"id_number", "phone", "bank_card", "date"})


@dataclass(frozen=True)
class Aside:
    """Not an answer. ``reply``: answered from the form (``reask``: show the question
    again after it); ``back_to``: the earlier question the worker wants to correct;
    otherwise the router answers it."""

    reply: str = ""
    reask: bool = True
    back_to: str = ""

    @property
    def routed(self) -> bool:
        return not self.reply and not self.back_to


def is_answer(state: State, field: Field, text: str, typed: str) -> bool:
    """Whether the form would take ``text`` as the answer to ``field`` (a date judged
    against the union's day, as the form judges it, not the machine's)."""
    if field.optional and text in NOTHING:
        return True
    given = trimmed(typed) if field.kind in FREE_TEXT else text
    try:
        validator_for(field, today=state.today)(given)
    except Invalid:
        return False
    return True


def resumes(state: State, form: Form, draft: Draft, message: Inbound) -> bool:
    """After the idle pause: an answer that can only be the answer (an ID number at the
    ID question, a photo at the photo step) goes on with the form instead of pausing."""
    if draft.at_proofs:
        return message.kind == "image"
    field = None if draft.at_summary else form.field(draft.step)
    if field is None or field.kind not in UNMISTAKABLE or message.kind not in ("text", "voice"):
        return False
    return is_answer(state, field, fold(message.text), message.text)


def consider(
    state: State, form: Form, draft: Draft, field: Field | None, message: Inbound
) -> Aside | None:
    """None if the message is for the form; else how to answer it (see the module)."""
    text, typed = fold(message.text), message.text
    word = correct(keyword(typed))
    if not text or _form_words(draft, text, word):
        return None
    free = field is not None and field.kind in FREE_TEXT
    # fold() drops the closing "？" that tells a question from a reason.
    if free and not PLAIN_QUESTION.search(unicodedata.normalize("NFKC", message.text).strip()):
        return None
    # A name fits most Chinese text; no name asks "什么时候" or says "撤回申请". (A short
    # greeting, "在吗", is the form's to doubt: it asks whether that is the name.)
    loose = (
        field is not None
        and field.kind == "name"
        and len(text) > 3
        and (is_question(text) or command_without_number(word))
    )
    if field is not None and not free and not loose and is_answer(state, field, text, typed):
        return None
    if field is not None and not free:  # "名字打错了" at the ID question: back to the name
        answered = [f for f in form.fields if f.key in draft.answers and f.key != field.key]
        wrong = named_field(answered, text)
        if wrong is not None:
            return Aside(back_to=wrong.key)
    asked = is_question(text) or bool(ENDS_AS_QUESTION.search(text))
    own = _about_this_question(state, form, draft, field, text, asked)
    if own is not None:
        return own
    if _asks_elsewhere(state, word, strict=free or draft.at_summary):
        return Aside()
    facts = _facts(state, form) if asked else {}
    for pattern, key in ((TIMING, "process"), (MONEY, "amounts"), (MATERIALS, "proofs")):
        if pattern.search(text) and facts.get(key):
            return Aside(facts[key])
    if asked and (asks_results(word) or asks_event(word) or retired(word)):
        return Aside()
    if asked and field is not None and not free:  # "算不算我自己": about this question
        return Aside(_field_help(field))
    return None


EDIT_WORDS = re.compile(r"改|错|不对|换|重填|重新填|写反")
LABEL_ENDINGS = re.compile(r"(?:号码|号|名称|全称)$")
# What workers call an answer, by the label the form gives it.
LABEL_WORDS = {"名字": "姓名", "电话": "手机号", "身份证": "身份证号", "单位": "工作单位"}


def named_field(fields: list[Field], text: str) -> Field | None:
    """The field a correction names ("手机号写错了", "名字打错了"); None if the text is no
    correction, or names no field, or several equally."""
    if not EDIT_WORDS.search(text) or EDIT.fullmatch(text):
        return None
    for word, label in LABEL_WORDS.items():
        text = text.replace(word, label)
    best: list[tuple[int, int]] = []  # (length of the matched piece, position)
    for position, field in enumerate(fields):
        label = field.label
        pieces = {label, LABEL_ENDINGS.sub("", label)} | {
            label[n : n + 2] for n in range(len(label) - 1)
        }
        found = max((len(p) for p in pieces if len(p) >= 2 and p in text), default=0)
        if found:
            best.append((found, position))
    best.sort(reverse=True)
    if not best or (len(best) > 1 and best[0][0] == best[1][0]):
        return None
    return fields[best[0][1]]


def edit_by_name(fields: list[Field], text: str) -> str | None:
    """At the summary, "手机号写错了 改一下" as "修改 N" (N: its line on the summary)."""
    field = named_field(fields, text)
    return None if field is None else f"修改 {fields.index(field) + 1}"


def _form_words(draft: Draft, text: str, word: str) -> bool:
    """What the summary and the photo step take as their own words."""
    if draft.at_summary:
        return word in SUBMIT or bool(EDIT.fullmatch(text)) or text in ("修改照片", "补充照片")
    if draft.at_proofs:
        return word in FINISH_PROOFS or word in SKIP_PROOFS
    return False


def _about_this_question(
    state: State, form: Form, draft: Draft, field: Field | None, text: str, asked: bool
) -> Aside | None:
    """Photos later, the privacy notice, or the question being asked: answered first,
    because their words ("退休金" in an income question) would point elsewhere."""
    if draft.at_proofs and LATER.search(text):
        days = state.settings.forms.draft_retention_days
        return Aside(
            f"好的，不着急。填好的内容为您保留{days}天，材料拍好后回复“继续”接着发照片。",
            reask=False,
        )
    if not asked:
        return None
    if PRIVACY.search(text):
        notice = _notice(form)
        if notice:
            return Aside(notice)
    if field is not None and (THIS_QUESTION.search(text) or _names_the_field(field, text)):
        return Aside(_field_help(field))
    return None


def _notice(form: Form) -> str:
    """The privacy notice the consent question carries, without the question."""
    for field in form.fields:
        if field.kind == "consent" and field.required and "\n\n" in field.prompt:
            return field.prompt.rsplit("\n\n", 1)[0]
    return ""


def _facts(state: State, form: Form) -> dict[str, str]:
    """What the worker may ask about the programme or contest they are applying for."""
    programme = get_programme(state.session, form.code) if form.flow == "aid" else None
    if programme is not None:
        definition = programme.definition
        proofs = "、".join(definition.get("proofs", ()))
        return {
            "process": f"办理：{definition['process']}" if definition.get("process") else "",
            "amounts": f"标准：{definition['amounts']}" if definition.get("amounts") else "",
            "proofs": f"需要拍照的材料：{proofs}，填到那一步时发送。" if proofs else "",
        }
    competition = state.session.get(Competition, form.code) if form.flow == "competition" else None
    if competition is not None:
        place = f"，地点：{competition.place}" if competition.place else ""
        day = month_day_words(competition.event_on) if competition.event_on else "待通知"
        return {"process": f"比赛时间：{day} {competition.event_time}{place}。"}
    return {}


def _names_the_field(field: Field, text: str) -> bool:
    """ "收入要算退休金吗" at the income question: a two-character piece of the label."""
    label = field.label
    return any(label[n : n + 2] in text for n in range(len(label) - 1))


def _field_help(field: Field) -> str:
    lines = [f"这一项这样填：{field.prompt}"]
    if field.kind in FREE_TEXT and field.max_length:
        lines.append(f"用几句话说清楚就行，最多{field.max_length}字。")
    if field.choices:
        lines.append("可选：" + "、".join(field.choices) + "，回复数字或名称。")
    if field.kind == "date":
        lines.append(f"记不清是哪天的话，说个大概也行，比如{RELATIVE_DATES}“两周前”。")
    return "\n".join(lines)


def _asks_elsewhere(state: State, word: str, strict: bool) -> bool:
    """Whether the router has an answer for this (``strict`` where any text could be
    the answer: only clear matches count)."""
    if word in SERVICE_WORDS:
        return True
    talk = small_talk(word)
    if talk == "thanks" or (talk == "ack" and not strict):
        return True
    if office_question(word) or labour_dispute(word) or command_without_number(word):
        return True
    found = understood(state, word)
    question = is_question(word) or bool(ENDS_AS_QUESTION.search(word))
    if found.confident or (found.clear and question):
        return True
    catalogue = current(state.session)
    named = match_aliases(catalogue.programmes, word) or match_aliases(catalogue.competitions, word)
    return bool(named) and (question or any(w in word for w in APPLY_WORDS))
