"""A multi-turn form over chat: one question per message, answers kept in the database.

A :class:`Form` is data: fields in order, each with a prompt, a kind (which
picks its validator), choices and a condition. Its owner (aid, competition
sign-up …) supplies the form, rules that need the database (:meth:`FormOwner.check`)
and what happens on submit. The engine does the rest, the same way for every
owner: control words, re-asking with the reason, photos for proofs, a numbered
summary with ``修改 N`` and ``确认``, and a pause after idle time.

The draft (:class:`~handlers.draft.Draft`, whose docstring lists its states) lives
in the follower's :class:`~models.Conversation` row (encrypted), changed only
inside the delivery's transaction under the follower's lock, so a restart or a
second worker process carries on where the worker left off, and two copies of
one message cannot both advance it.

Owners are not registered here: the application declares them in
:mod:`handlers.flows` and hands them over in :attr:`State.flows`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any, Protocol

from handlers import asides, doubts, union_pick
from handlers.draft import Draft
from handlers.form_prompts import (
    SUMMARY_CHOICES,
    editable,
    prompt,
)
from handlers.menu import staff_contact_text
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from handlers.text import fold, keyword, trimmed
from handlers.validators import FREE_TEXT, Invalid, validator_for
from handlers.vocabulary import (
    BACK,
    CANCEL,
    FINISH_PROOFS,
    HANDOFF,
    KEEP,
    NO,
    NOTHING,
    RESTART,
    RESUME,
    SKIP_PROOFS,
    SUBMIT,
    UNCHANGED,
    YES,
    control_in,
)
from models.conversation import end_conversation, save_conversation
from models.form_schema import PROOFS, SUMMARY, Field, Form
from models.handoff import record_handoff
from models.outbox import MEDIA, enqueue


class Refused(Exception):
    """Raised by :meth:`FormOwner.submit` to keep the draft and tell the worker why."""


class FormOwner(Protocol):
    def load(self, state: State, code: str) -> Form | None:
        """The form behind ``code``, or None if it is gone (closed, deleted)."""

    def check(
        self, state: State, form: Form, field: Field, value: Any, answers: dict
    ) -> str | None:
        """A rule that needs the database; return the reason to refuse ``value``."""

    def notes(self, state: State, form: Form, answers: dict) -> list[str]:
        """Extra lines under the summary (e.g. a provisional grade)."""

    def submit(self, state: State, form: Form, answers: dict, proofs: list[dict]) -> list[Reply]:
        """Turn the confirmed draft into a record; reply with what happens next."""


def start(state: State, form: Form, intro: str = "") -> list[Reply]:
    """Open ``form`` for the worker (replacing any draft) and ask the first question."""
    draft = Draft(
        code=form.code,
        title=form.title,
        step=form.steps({})[0],
        notice_version=form.notice_version,
    )
    _save(state, form, draft)
    question = prompt(form, draft)
    return [Text(f"{intro}\n\n{question}" if intro else question)]


def idle_limit(state: State) -> dt.timedelta:
    return dt.timedelta(minutes=state.settings.forms.idle_minutes)


def continue_form(message: Inbound, state: State) -> list[Reply] | None:
    """Take the worker's next message into their open form.

    Returns None when the message is not for the form (the draft is paused, or the
    worker asked something else, see :mod:`handlers.asides`): the caller routes it
    as usual, and shows ``state.pending_question`` after the answer when it is set.
    """
    conversation = state.conversation
    owner = state.flows.forms[conversation.flow]
    draft = Draft.from_data(conversation.data)
    form = owner.load(state, draft.code)
    if form is None:
        end_conversation(state.session, conversation)
        return [Text("您之前填写的表单已停止受理，草稿已删除。回复“帮助”查看菜单。")]
    if draft.notice_version:  # the notice this draft was opened under, whatever is current
        form = replace(form, notice_version=draft.notice_version)
    text, word = fold(message.text), keyword(message.text)

    idle = not draft.paused and state.now - conversation.updated_at > idle_limit(state)
    # The first message after a pause is not swallowed: an answer that can only be the
    # answer goes on; anything else is answered, with the form offered (below).
    if idle and not asides.resumes(state, form, draft, message):
        draft.paused = True
        _save(state, form, draft)
    if draft.paused:
        control = control_in(word, strict=True)
        if control == RESUME:
            draft.paused = False
            _save(state, form, draft)
            return [Text(prompt(form, draft))]
        if control == CANCEL:
            return _cancel(state, form)
        return None

    conversation.updated_at = state.now  # any answer, even a wrong one, is activity
    if draft.confirming:
        return _answer_confirmation(state, form, draft, word)
    if message.kind == "image":
        return _photo(state, form, draft, message)
    if message.kind not in ("text", "voice"):
        return [Text("这一步请回复文字。\n\n" + prompt(form, draft))]

    field = None if draft.at_summary or draft.at_proofs else form.field(draft.step)
    # Where any text could be the answer (a reason, a unit), only a plain control word counts.
    control = control_in(word, strict=field is not None and field.kind in FREE_TEXT)
    if control:
        return ON_CONTROL[control](state, form, draft)
    aside = asides.consider(state, form, draft, field, message)
    if aside is not None and aside.routed:  # the router answers it, then asks again
        # Active just before whatever answering it saves (a list, another form): the
        # latest conversation takes the next message.
        conversation.updated_at = state.now - asides.JUST_BEFORE
        state.pending_question = prompt(form, draft)
        return None
    if aside is not None and aside.back_to:  # "名字打错了": that question again
        draft.step, draft.walking_back = aside.back_to, True
        _save(state, form, draft)
        return [Text(prompt(form, draft))]
    if aside is not None:  # a question about the form, answered from it
        return [Text(aside.reply + ("\n\n" + prompt(form, draft) if aside.reask else ""))]
    if draft.at_summary:
        # "手机号写错了 改一下" names the line to change: as "修改 3".
        text = asides.edit_by_name(editable(form, draft.answers), text) or text
        return _at_summary(state, owner, form, draft, text, word)
    if draft.at_proofs:
        return _at_proofs(state, owner, form, draft, word)
    if draft.walking_back and word in UNCHANGED and draft.step in draft.answers:
        return _advance(state, owner, form, draft)
    return _answer(state, owner, form, draft, text, message.text)


def _save(state: State, form: Form, draft: Draft) -> None:
    save_conversation(state.session, state.follower.id, form.flow, draft.to_data(), state.now)


def _advance(state: State, owner: FormOwner, form: Form, draft: Draft) -> list[Reply]:
    """Move to the first step still open; the summary once every step is done.

    A worker walking back (上一步) goes forward one question at a time instead, so the
    question they see next is the one after the answer they just corrected."""
    answers = draft.answers
    for key in list(answers):
        field = form.field(key)
        if field is None or not field.applies(answers):
            del answers[key]  # an edit made this question moot
    steps = form.steps(answers)
    if draft.walking_back and draft.step in steps:
        following = steps[steps.index(draft.step) + 1 :]
        if following and (following[0] in answers or following[0] == PROOFS):
            draft.step = following[0]
            _save(state, form, draft)
            return [Text(prompt(form, draft))]
    draft.walking_back = False
    for step in steps:
        if step == PROOFS:
            if not draft.proofs_done:
                draft.step = PROOFS
                break
        elif step not in answers:
            draft.step = step
            break
    else:
        draft.step = SUMMARY
        draft.notes = owner.notes(state, form, answers)
    _save(state, form, draft)
    return [Text(prompt(form, draft))]


def _answer(
    state: State, owner: FormOwner, form: Form, draft: Draft, text: str, typed: str
) -> list[Reply]:
    field = form.field(draft.step)
    doubted, draft.doubt = draft.doubt, None
    if doubted:  # a doubt waits for one reply: 是 keeps the value (or a number picks one of
        # the options offered, see union_pick), anything else replaces it
        _save(state, form, draft)
        if doubted["step"] == field.key:
            if "options" in doubted:
                kept = union_pick.chosen(doubted, text)
            else:
                kept = doubted["value"] if doubts.keeps(text) else None
            if kept is not None:
                return _take(state, owner, form, draft, field, kept)
    if field.optional and text in NOTHING:
        return _take(state, owner, form, draft, field, "")
    # NFKC would turn a reason's "，" into ","; free text is kept as the worker wrote it.
    given = trimmed(typed) if field.kind in FREE_TEXT else text
    try:
        value = validator_for(field, today=state.today)(given)
    except Invalid as reason:
        return [Text(prompt(form, draft, before=reason.sentence()))]
    reason = doubts.reason_to_doubt(field, value, draft.answers)
    if reason:
        draft.doubt = {"step": field.key, "value": value}
        _save(state, form, draft)
        return [Text(doubts.question(reason))]
    options = union_pick.closest(state, field, value)
    if options:
        draft.doubt = {"step": field.key, "value": value, "options": options}
        _save(state, form, draft)
        return [Text(union_pick.question(value, options))]
    replies = _take(state, owner, form, draft, field, value)
    return doubts.with_readback(replies, field, given, value, draft.answers)


def _take(
    state: State, owner: FormOwner, form: Form, draft: Draft, field: Field, value: Any
) -> list[Reply]:
    refusal = owner.check(state, form, field, value, draft.answers)
    if refusal:
        return [Text(prompt(form, draft, before=f"{refusal}\n"))]
    if field.kind == "consent" and field.required and value is not True:
        end_conversation(state.session, state.conversation)
        return [Text(field.refusal)]
    draft.answers = {**draft.answers, field.key: value}
    return _advance(state, owner, form, draft)


def _at_summary(
    state: State, owner: FormOwner, form: Form, draft: Draft, text: str, word: str
) -> list[Reply]:
    if word in SUBMIT:
        try:
            replies = owner.submit(state, form, draft.answers, draft.proofs)
        except Refused as refusal:
            return [Text(str(refusal))]
        end_conversation(state.session, state.conversation)
        return replies
    edit = re.fullmatch(r"(?:修改|改)\s*第?(\d+)项?", text)
    if edit:
        fields = editable(form, draft.answers)
        number = int(edit.group(1))
        if not 1 <= number <= len(fields):
            return [Text(f"没有第{number}项，请回复 1 到 {len(fields)} 之间的数字。")]
        draft.step, draft.walking_back = fields[number - 1].key, False
        _save(state, form, draft)
        return [Text(prompt(form, draft))]
    if text in ("修改照片", "补充照片", "照片"):
        draft.step, draft.proofs_done = PROOFS, False
        _save(state, form, draft)
        return [Text(prompt(form, draft))]
    # Anything else, a bare 是 or 好 included, submits nothing: say the three ways on.
    return [Text(SUMMARY_CHOICES)]


def _at_proofs(state: State, owner: FormOwner, form: Form, draft: Draft, word: str) -> list[Reply]:
    if word in FINISH_PROOFS or word in SKIP_PROOFS:
        if not draft.proofs and (form.proofs_required or word in FINISH_PROOFS):
            if form.proofs_required:
                days = state.settings.forms.draft_retention_days
                return [
                    Text(
                        "还没有收到照片。请拍照发送：" + "、".join(form.proofs) + "。\n"
                        f"手头没有材料的话，可以先放着，填好的内容为您保留{days}天，"
                        "拍好后回复“继续”接着发。"
                    )
                ]
            return [Text("还没有收到照片。请拍照发送材料，或回复“跳过”之后补交。")]
        draft.proofs_done = True
        return _advance(state, owner, form, draft)
    return [Text(prompt(form, draft, before="这一步请直接发送照片。\n"))]


def _photo(state: State, form: Form, draft: Draft, message: Inbound) -> list[Reply]:
    if not draft.at_proofs:
        return [Text(prompt(form, draft, before="现在还不需要照片，请先回答问题。\n"))]
    limit = state.settings.forms.max_proofs
    if len(draft.proofs) >= limit:
        return [Text(f"照片最多{limit}张，已经够了。请回复“完成”。")]
    if any(p["media_id"] == message.media_id for p in draft.proofs):
        return [Text(f"这张照片已经收到了（共{len(draft.proofs)}张）。")]
    proof = {"media_id": message.media_id, "received_at": state.now.isoformat()}
    draft.proofs = [*draft.proofs, proof]
    # WeChat keeps a photo's MediaId for three days: fetch it now, via the outbox.
    enqueue(
        state.session,
        key=f"media:{message.media_id}",
        channel=MEDIA,
        kind="proof",
        payload={"media_id": message.media_id},
        follower_id=state.follower.id,
    )
    _save(state, form, draft)
    return [Text(f"已收到第{len(draft.proofs)}张。还有请继续发送，发完回复“完成”。")]


CONFIRM_QUESTIONS = {
    CANCEL: "确定要取消吗？已填写的内容将被删除。",
    RESTART: "确定要清空重填吗？",
}


def _ask_confirmation(state: State, form: Form, draft: Draft, action: str) -> list[Reply]:
    draft.confirming = action
    _save(state, form, draft)
    return [Text(f"{CONFIRM_QUESTIONS[action]}回复“是”确认，回复“否”继续填写。")]


def _answer_confirmation(state: State, form: Form, draft: Draft, word: str) -> list[Reply]:
    action, draft.confirming = draft.confirming, None
    if word in YES:
        if action == CANCEL:
            return _cancel(state, form)
        return start(state, form, intro="已清空，重新开始填写。")
    # 否, or 保留/继续: go on filling in.
    if word in NO or word in KEEP or control_in(word, strict=True) == RESUME:
        _save(state, form, draft)
        return [Text(prompt(form, draft))]
    return [Text("请回复“是”或“否”。")]  # the question stays open: nothing was saved


def _cancel(state: State, form: Form) -> list[Reply]:
    end_conversation(state.session, state.conversation)
    return [
        Text(f"已取消{form.title}，填写的内容已删除。需要时可随时重新申请，回复“帮助”查看菜单。")
    ]


def _back(state: State, form: Form, draft: Draft) -> list[Reply]:
    steps = form.steps(draft.answers)
    step = draft.step
    position = len(steps) if draft.at_summary else steps.index(step) if step in steps else 0
    if position == 0:
        return [Text(prompt(form, draft, before="已经是第一项了。\n"))]
    draft.step = steps[position - 1]
    draft.walking_back = True
    if draft.at_proofs:
        draft.proofs_done = False
    _save(state, form, draft)
    return [Text(prompt(form, draft))]


def _handoff(state: State, form: Form, draft: Draft) -> list[Reply]:
    topic = f"{form.title}（填到：{draft.step}）"
    record_handoff(state.session, state.follower.id, topic=topic, now=state.now)
    return [Text(staff_contact_text(state) + "\n您填写的内容已保存，回复“继续”接着填。")]


def _resume(state: State, form: Form, draft: Draft) -> list[Reply]:
    return [Text(prompt(form, draft))]


# What each control word does at a question (vocabulary.CONTROLS names the words).
ON_CONTROL = {
    CANCEL: lambda state, form, draft: _ask_confirmation(state, form, draft, CANCEL),
    RESTART: lambda state, form, draft: _ask_confirmation(state, form, draft, RESTART),
    BACK: _back,
    HANDOFF: _handoff,
    RESUME: _resume,
}
