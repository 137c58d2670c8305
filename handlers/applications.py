"""A worker's own applications: list, one in detail, withdraw, add what staff asked for."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from handlers import confirm, forms, picks
from handlers.cues import PROGRESS_WORDS, SUPPLEMENT_WORDS, WITHDRAW_WORDS
from handlers.draft import Draft
from handlers.homophones import correct
from handlers.menu import media_outside_form
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from handlers.text import fold
from models.aid import (
    NEEDS_INFO,
    UNDER_REVIEW,
    WITHDRAWN,
    AidApplication,
    ApplicationProof,
    applications_of,
    find_application,
    transition,
)
from models.conversation import save_conversation
from models.form_schema import PROOFS, Field, Form
from models.outbox import MEDIA, enqueue
from models.windows import SHANGHAI

WITHDRAW = "aid_withdraw"
SUPPLEMENT = "aid_supplement"
PHOTO = "aid_photo"  # "is this photo for application …?"
# Several applications a bare command could mean: which one (handlers.flows declares them).
DETAIL_PICK = "aid_detail"
WITHDRAW_PICK = "aid_withdraw_pick"
SUPPLEMENT_PICK = "aid_supplement_pick"
PHOTO_PICK = "aid_photo_pick"
REFERENCE = re.compile(r"([A-Za-z]{1,8})-?(\d{4})-?(\d{6})")
COMMAND = re.compile(r"(查询|查看|进度|撤回|撤销|补充|补交)\s*[:：]?\s*(\S+)")



def _when(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _own(state: State, reference: str) -> AidApplication | None:
    """The application if it is the worker's own; others' look the same as missing ones."""
    match = REFERENCE.fullmatch(reference)
    if not match:
        return None
    prefix, year, number = match.groups()
    application = find_application(state.session, f"{prefix.upper()}-{year}-{number}")
    if application is None or application.follower_id != state.follower.id:
        return None
    return application


def _not_found(reference: str) -> list[Reply]:
    return [Text(f"没有找到编号为 {reference} 的申请。回复“我的申请”查看您的全部申请。")]


def application_lines(state: State) -> list[str]:
    """The worker's latest applications, one line each: reference, programme, status, when."""
    return [
        f"{row.reference} {row.programme.name}｜{row.status_label}｜更新于 {_when(row.updated_at)}"
        for row in applications_of(state.session, state.follower.id)[:10]
    ]


def my_applications(message: Inbound, state: State) -> list[Reply]:
    """``我的申请`` / ``查询进度``: each application with its status and last update."""
    rows = applications_of(state.session, state.follower.id)
    if not rows:
        return [Text("您还没有提交过帮扶申请。回复“帮扶”查看可以申请的项目。")]
    lines = ["您的申请：", *application_lines(state)]
    lines.append("回复“查询 编号”查看详情；未审结的申请可回复“撤回 编号”撤回。")
    if any(row.status == NEEDS_INFO for row in rows):
        lines.append("需补充材料的申请，回复“补充 编号”补交。")
    return [Text("\n".join(lines))]


def command(message: Inbound, state: State) -> list[Reply] | None:
    """``查询 / 撤回 / 补充 <编号>``; None if the text is not one of them."""
    match = COMMAND.fullmatch(fold(message.text))
    if not match or not REFERENCE.fullmatch(match.group(2)):
        return None
    verb, reference = match.groups()
    application = _own(state, reference)
    if application is None:
        return _not_found(reference)
    if verb in ("撤回", "撤销"):
        return _ask_withdraw(state, application)
    if verb in ("补充", "补交"):
        return _start_supplement(state, application)
    return [Text(details(application))]


def bare_command(message: Inbound, state: State) -> list[Reply] | None:
    """ "撤回", "补充", "查进度", "我想撤回申请": the command, on the worker's only
    candidate, or the candidates numbered; None if the text is none of them."""
    text = correct(fold(message.text))
    if len(text) > 20 or REFERENCE.search(text):
        return None
    if WITHDRAW_WORDS.search(text):
        undecided = [a for a in applications_of(state.session, state.follower.id) if a.undecided]
        if not undecided:
            return [Text("您没有可以撤回的申请（已有结果的申请不能撤回）。回复“我的申请”查看。")]
        if len(undecided) == 1:
            return _ask_withdraw(state, undecided[0])
        return _which(state, WITHDRAW_PICK, undecided, "要撤回哪一份？")
    if SUPPLEMENT_WORDS.search(text):
        mine = applications_of(state.session, state.follower.id)
        waiting = [a for a in mine if a.status == NEEDS_INFO]
        if not waiting:
            return [Text("您的申请目前都不需要补充材料。回复“我的申请”查看进度。")]
        if len(waiting) == 1:
            return _start_supplement(state, waiting[0])
        return _which(state, SUPPLEMENT_PICK, waiting, "要给哪一份补充材料？")
    if PROGRESS_WORDS.search(text):
        return progress(message, state)
    return None


def progress(message: Inbound, state: State) -> list[Reply]:
    """ "查进度": the only application in detail, or the applications numbered."""
    mine = applications_of(state.session, state.follower.id)
    if not mine:
        return [Text("您还没有提交过帮扶申请。回复“帮扶”查看可以申请的项目。")]
    if len(mine) == 1:
        return [Text(details(mine[0]))]
    return _which(state, DETAIL_PICK, mine[:9], "要查看哪一份？")


def _which(state: State, kind: str, candidates: list[AidApplication], question: str) -> list[Reply]:
    if kind == DETAIL_PICK:
        picks.offer(state, DETAIL_PICK, [a.reference for a in candidates])
    elif kind == WITHDRAW_PICK:
        picks.offer(state, WITHDRAW_PICK, [a.reference for a in candidates])
    else:
        picks.offer(state, SUPPLEMENT_PICK, [a.reference for a in candidates])
    lines = [f"您有{len(candidates)}份申请，{question}回复数字："]
    lines += [
        f"{n} {a.reference} {a.programme.name}｜{a.status_label}"
        for n, a in enumerate(candidates, 1)
    ]
    return [Text("\n".join(lines))]


def picked_detail(state: State, reference: str) -> list[Reply]:
    application = _own(state, reference)
    return [Text(details(application))] if application else _not_found(reference)


def picked_withdraw(state: State, reference: str) -> list[Reply]:
    application = _own(state, reference)
    return _ask_withdraw(state, application) if application else _not_found(reference)


def picked_supplement(state: State, reference: str) -> list[Reply]:
    application = _own(state, reference)
    return _start_supplement(state, application) if application else _not_found(reference)


STATUS_WORDS = {
    "submitted": "已提交",
    "under_review": "进入审核",
    "needs_info": "需要补充材料",
    "approved": "审核通过",
    "rejected": "未通过",
    "paid": "资金已发放",
    "withdrawn": "已撤回",
}


def details(application: AidApplication) -> str:
    lines = [
        f"申请编号：{application.reference}",
        f"项目：{application.programme.name}",
        f"状态：{application.status_label}",
        f"提交时间：{_when(application.submitted_at)}",
        f"照片材料：{len(application.proofs)}张",
        "办理记录：",
    ]
    for event in application.events[-6:]:
        label = STATUS_WORDS.get(event.to_status, event.to_status)
        comment = f"（{event.comment}）" if event.comment and event.actor != "worker" else ""
        lines.append(f"· {_when(event.at)} {label}{comment}")
    if application.status == NEEDS_INFO:
        lines.append(f"请回复“补充 {application.reference}”补交材料。")
    elif application.undecided:
        lines.append(f"如需撤回，回复“撤回 {application.reference}”。")
    return "\n".join(lines)


# --- withdrawing, after a confirmation ------------------------------------


def _ask_withdraw(state: State, application: AidApplication) -> list[Reply]:
    if not application.undecided:
        return [Text(f"申请 {application.reference} 已{application.status_label}，不能撤回。")]
    question = (
        f"确定要撤回申请 {application.reference}（{application.programme.name}）吗？"
        "撤回后需要重新申请。"
    )
    return confirm.ask(state, WITHDRAW, application.reference, question)


def withdraw_confirmed(state: State, reference: str) -> list[Reply]:
    application = _own(state, reference)
    if application is None or not application.undecided:
        return [Text(f"申请 {reference} 已不能撤回。")]
    transition(state.session, application, WITHDRAWN, "worker", "本人在公众号撤回", state.now)
    return [Text(f"申请 {reference} 已撤回。需要时可以重新申请。")]


def withdraw_declined(state: State, reference: str) -> list[Reply]:
    return [Text(f"好的，申请 {reference} 保留，继续办理。")]


# --- adding information staff asked for ------------------------------------


def _start_supplement(state: State, application: AidApplication) -> list[Reply]:
    if application.status != NEEDS_INFO:
        return [
            Text(f"申请 {application.reference} 目前不需要补充材料（{application.status_label}）。")
        ]
    form = SupplementForm().load(state, application.reference)
    return forms.start(state, form)


def staff_request(application: AidApplication) -> str:
    asked = [e for e in application.events if e.to_status == NEEDS_INFO]
    return asked[-1].comment if asked and asked[-1].comment else "请补充相关材料"


class SupplementForm:
    """A short form for what staff asked: a note and photos, then back to review."""

    def load(self, state: State, code: str) -> Form | None:
        application = _own(state, code)
        if application is None or application.status != NEEDS_INFO:
            return None
        note = Field(
            key="note",
            label="补充说明",
            prompt=f"工作人员的要求：{staff_request(application)}\n请回复补充说明。",
            optional=True,
            max_length=300,
        )
        return Form(
            flow=SUPPLEMENT,
            code=application.reference,
            title=f"申请 {application.reference} 的补充材料",
            fields=(note,),
            proofs=("工作人员要求补充的材料",),
        )

    def check(self, state, form, field, value, answers) -> str | None:
        return None

    def notes(self, state, form, answers) -> list[str]:
        return []

    def submit(self, state: State, form: Form, answers: dict[str, Any], proofs: list[dict]):
        application = _own(state, form.code)
        for proof in proofs:
            state.session.add(
                ApplicationProof(
                    application_id=application.id,
                    media_id=proof["media_id"],
                    received_at=dt.datetime.fromisoformat(proof["received_at"]),
                )
            )
        note = answers.get("note") or f"补交照片{len(proofs)}张"
        transition(state.session, application, UNDER_REVIEW, "worker", note, state.now)
        return [Text(f"已收到补充材料，申请 {application.reference} 重新进入审核。")]


def needs_info_reminders(state: State) -> dict[str, Text]:
    """By reference: what staff wait for, offered with replies until the worker adds it."""
    waiting = [
        a for a in applications_of(state.session, state.follower.id) if a.status == NEEDS_INFO
    ]
    return {
        a.reference: Text(
            f"您的申请 {a.reference}（{a.programme.name}）需要补充：{staff_request(a)}。"
            f"回复“补充 {a.reference}”在这里补交。"
        )
        for a in waiting[:2]
    }


# --- a photo sent outside a form -------------------------------------------------------


def photo_outside_form(message: Inbound, state: State) -> list[Reply]:
    """A photo with no form asking for one: while staff wait for material on an
    application, offer it there (never drop it); otherwise say where photos go."""
    waiting = [
        a for a in applications_of(state.session, state.follower.id) if a.status == NEEDS_INFO
    ]
    if not waiting or not message.media_id:
        return media_outside_form(message, state)
    received = state.now.isoformat()
    subjects = [f"{a.reference}|{message.media_id}|{received}" for a in waiting[:5]]
    if len(waiting) == 1:
        application = waiting[0]
        question = (
            f"这张照片是要补充给申请 {application.reference}（{application.programme.name}）的吗？"
        )
        return confirm.ask(state, PHOTO, subjects[0], question, how="回复“是”补交，回复“否”不交。")
    picks.offer(state, PHOTO_PICK, subjects)
    lines = ["这张照片是要补充给哪份申请？回复数字："]
    lines += [f"{n} {a.reference} {a.programme.name}" for n, a in enumerate(waiting[:5], 1)]
    return [Text("\n".join(lines))]


def photo_confirmed(state: State, subject: str) -> list[Reply]:
    """Start the 补充 form with the photo already received, at the photo step."""
    reference, media_id, received = subject.split("|", 2)
    application = _own(state, reference)
    form = SupplementForm().load(state, reference) if application else None
    if form is None:
        return [Text(f"申请 {reference} 已不需要补充材料，这张照片没有提交。")]
    draft = Draft(
        code=reference,
        title=form.title,
        step=PROOFS,
        answers={"note": ""},
        proofs=[{"media_id": media_id, "received_at": received}],
    )
    save_conversation(state.session, state.follower.id, SUPPLEMENT, draft.to_data(), state.now)
    # WeChat keeps a photo's MediaId for three days: fetch it now, via the outbox.
    enqueue(
        state.session,
        key=f"media:{media_id}",
        channel=MEDIA,
        kind="proof",
        payload={"media_id": media_id},
        follower_id=state.follower.id,
    )
    return [
        Text(f"好的，已作为申请 {reference} 的补充材料收到第1张。还有请继续发送，发完回复“完成”。")
    ]


def photo_declined(state: State, subject: str) -> list[Reply]:
    reference = subject.split("|", 1)[0]
    return [Text(f"好的，这张照片没有提交。需要时回复“补充 {reference}”补交材料。")]
