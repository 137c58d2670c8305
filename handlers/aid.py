"""Aid applications in the chat: choosing a programme, its form, the rules, submitting.

The programmes, their fields, proofs, windows and texts are data
(:mod:`models.seed`); the amounts behind hardship grading are config
(``[aid]``). This module supplies the rules that need the database and turns a
confirmed draft into an application with a reference number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError

from handlers import confirm, forms, picks, switch
from handlers.forms import Refused
from handlers.messages import Inbound, Reply, Text
from handlers.office import office_line
from handlers.seasons import out_of_season, window_text
from handlers.state import State
from models.aid import (
    SUBMITTED,
    AidApplication,
    AidProgramme,
    ApplicationProof,
    Window,
    child_key,
    find_by_key,
    get_programme,
    next_reference,
    open_key,
    person_hash,
    places_left,
    programmes,
    record_event,
)
from models.consent import PRIVACY, PUBLICITY, record_consent
from models.form_schema import Field, Form, fields_from
from models.org_matching import matched_org

FLOW = "aid"
KIND = "aid"
SWITCH = "aid_switch"  # the yes/no question before replacing a draft with another programme


def window(state: State, programme: AidProgramme) -> Window:
    return programme.window(state.today)


def texts(state: State, template: str, programme: AidProgramme) -> str:
    union = state.settings.union
    return template.format(
        hotline=union.hotline,
        provincial_hotline=union.provincial_hotline,
        office=office_line(state),
        programme=f"{programme.name}申请",
    )


def describe(state: State, programme: AidProgramme) -> str:
    """What a worker asks before applying: who, what to bring, how much, when."""
    definition = programme.definition
    lines = [f"【{programme.name}】", f"对象：{programme.summary}"]
    if definition.get("proofs"):
        lines.append("需要材料（拍照发送）：" + "、".join(definition["proofs"]))
    if definition.get("amounts"):
        lines.append(f"标准：{definition['amounts']}")
    lines.append(f"申报时间：{window_text(programme)}")
    if definition.get("process"):
        lines.append(f"办理：{definition['process']}")
    return "\n".join(lines)


# --- choosing a programme -------------------------------------------------


def aid_menu(message: Inbound, state: State) -> list[Reply]:
    """``帮扶``: the programmes, numbered, open ones first; a number picks one."""
    listed = programmes(state.session)
    if not listed:
        return [
            Text(f"暂时没有可以在线申请的帮扶项目，请拨打 {state.settings.union.hotline} 咨询。")
        ]
    lines = ["可以在线申请的帮扶项目："]
    for number, programme in enumerate(listed, 1):
        status = "可申请" if window(state, programme).open else f"{window_text(programme)}受理"
        lines.append(f"{number} {programme.name}（{status}）")
    lines.append(
        "回复数字开始申请；想先了解条件，可以直接问，例如“孩子考上大学能申请助学吗”。"
    )
    picks.offer(state, KIND, [p.code for p in listed])
    return [Text("\n".join(lines))]


def start_application(
    state: State, programme: AidProgramme, described: bool = False, replace: bool = False
) -> list[Reply]:
    """Open the form (the privacy notice comes first, in the consent question).

    The programme's card is a message of its own (:func:`offer_details`): card and
    notice together are too long for a phone screen. Another programme's draft is
    replaced only after the worker says so (``replace``)."""
    if not programme.active:
        return [Text(f"{programme.name}暂停在线受理，请拨打 {state.settings.union.hotline} 咨询。")]
    if not window(state, programme).open:
        return out_of_season(state, programme, "申报")
    waiting = None if replace else switch.waiting_draft(state, FLOW)
    if waiting is not None:
        if waiting.code == programme.code:
            return switch.already_open(waiting)
        wanted = f"申请{programme.name}"
        return confirm.ask(state, SWITCH, programme.code, *switch.question(waiting, wanted))
    proofs = programme.definition.get("proofs")
    needs = "" if described or not proofs else "，需要拍照：" + "、".join(proofs)
    intro = f"好的，开始填写{programme.name}申请，大约需要5分钟{needs}。"
    return forms.start(state, build_form(state, programme), intro=intro)


def offer_details(state: State, programme: AidProgramme, lead: str = "") -> list[Reply]:
    """Answer a question about a programme, and offer to start (``lead``: a line of
    sympathy first, when the worker described their situation)."""
    first = f"{lead}\n" if lead else ""
    if not window(state, programme).open:
        [closed] = out_of_season(state, programme, "申报")
        return [Text(f"{first}【{programme.name}】\n{closed.content}\n对象：{programme.summary}")]
    picks.offer(state, KIND, [programme.code])
    info = describe(state, programme)
    return [Text(f"{first}{info}\n\n符合条件的话，回复“申请”开始填写。")]


# --- capped choices (夏送清凉's pickup stations) ------------------------------


def full_text(programme: AidProgramme, choice: str, left: dict[str, int], hint: str = "") -> str:
    unit = programme.definition["quota"].get("unit", "个")
    others = [f"{c}（剩{n}{unit}）" for c, n in left.items() if n > 0 and c != choice]
    if not others:
        return f"{programme.name}本季各处都已登记满了。回复“取消”退出，或回复“人工”联系工作人员。"
    return f"{choice}本季已登记满了。还可以选：" + "、".join(others) + "。" + hint


# --- the form -------------------------------------------------------------


def build_form(state: State, programme: AidProgramme) -> Form:
    definition = programme.definition
    return Form(
        flow=FLOW,
        code=programme.code,
        title=f"{programme.name}申请",
        fields=fields_from(
            definition["fields"],
            notice=texts(state, definition["privacy_notice"], programme),
            refusal=texts(state, definition["privacy_refusal"], programme),
        ),
        proofs=tuple(definition.get("proofs", ())),
        proofs_required=bool(definition.get("proofs_required")),
        notice_version=definition.get("notice_version", ""),
    )


def grade(state: State, answers: dict[str, Any]) -> str | None:
    """深度 / 相对 / 意外致困 from the answers and the configured 低保 standard (provisional)."""
    if "household_size" not in answers or "monthly_income" not in answers:
        return None
    aid = state.settings.aid
    per_capita = (answers["monthly_income"] - answers.get("rigid_expense", 0)) / answers[
        "household_size"
    ]
    if per_capita < aid.dibao_monthly_yuan:
        return "深度困难"
    if per_capita < aid.dibao_monthly_yuan * aid.relative_multiplier:
        return "相对困难"
    yearly_income = answers["monthly_income"] * 12
    if answers.get("emergency_cost", 0) > aid.accident_cost_ratio * yearly_income:
        return "意外致困"
    return None


class AidApplicationForm:
    """The :class:`~handlers.forms.FormOwner` of aid programmes."""

    def load(self, state: State, code: str) -> Form | None:
        programme = get_programme(state.session, code)
        if programme is None or not programme.active:
            return None
        return build_form(state, programme)

    def check(
        self, state: State, form: Form, field: Field, value: Any, answers: dict
    ) -> str | None:
        programme = get_programme(state.session, form.code)
        season = window(state, programme).season
        if field.kind == "consent":
            kind = PRIVACY if field.key == "privacy_consent" else PUBLICITY
            record_consent(
                state.session,
                state.follower.id,
                kind,
                f"aid:{form.code}",
                form.notice_version,
                value,
                state.now,
            )
            return None
        if field.key == "id_number":
            existing = find_by_key(
                state.session, AidApplication.open_key, open_key(form.code, season, value)
            )
            if existing is not None:
                return self._duplicate(state, programme, existing, "该身份证号")
        if field.key == "child_id_number":
            if value == answers.get("id_number"):
                return "学生身份证号不能和申请人相同，请输入子女的身份证号。"
            existing = find_by_key(
                state.session, AidApplication.child_key, child_key(form.code, season, value)
            )
            if existing is not None:
                return self._duplicate(state, programme, existing, "这名学生")
        if field.key == "diagnosis_date" and int(value[:4]) != state.today.year:
            hotline = state.settings.union.hotline
            return f"{programme.name}受理当年确诊的疾病；往年确诊的请拨打 {hotline} 咨询其他帮扶。"
        quota = programme.definition.get("quota")
        if quota and field.key == quota["field"]:
            left = places_left(state.session, programme, season)
            if left.get(value, 1) <= 0:
                return full_text(programme, value, left)
        if field.key == "out_of_pocket":
            if value <= 0:
                return "个人自付费用应大于0元。"
            if value > answers.get("medical_cost", value):
                return "个人自付不能超过医疗总费用，请核对。"
        return None

    def _duplicate(
        self, state: State, programme: AidProgramme, existing: AidApplication, who: str
    ) -> str:
        yours = existing.follower_id == state.follower.id
        detail = f"（编号 {existing.reference}，{existing.status_label}）" if yours else ""
        return (
            f"{who}今年已经申请过{programme.name}{detail}，每人每年只能有一份在办申请。"
            "如需为家人申请，请输入家人的信息；回复“取消”退出。"
        )

    def _allot(
        self, state: State, programme: AidProgramme, season: int, answers: dict
    ) -> str | None:
        """The capped choice this submission takes, counted again under the programme's
        row lock (the write lock on SQLite) so two last-minute submissions cannot both
        take the last unit."""
        quota = programme.definition.get("quota")
        if not quota:
            return None
        state.session.get(AidProgramme, programme.code, with_for_update=True)
        choice = answers.get(quota["field"])
        left = places_left(state.session, programme, season)
        if left.get(choice, 1) <= 0:
            raise Refused(full_text(programme, choice, left, hint="回复“修改 数字”换一个。"))
        return choice if choice in left else None

    def notes(self, state: State, form: Form, answers: dict) -> list[str]:
        programme = get_programme(state.session, form.code)
        if not programme.definition.get("grading"):
            return []
        result = grade(state, answers)
        if result is None:
            return [
                "初步评估：按您填写的收入暂不属于困难家庭标准，仍可提交，由工作人员核实（以审核结果为准）。"
            ]
        return [f"初步评估：{result}（仅供参考，以审核结果为准）。"]

    def submit(self, state: State, form: Form, answers: dict, proofs: list[dict]) -> list[Reply]:
        programme = get_programme(state.session, form.code)
        season = window(state, programme).season
        grading = grade(state, answers) if programme.definition.get("grading") else None
        allotment = self._allot(state, programme, season, answers)
        application = AidApplication(
            programme_code=programme.code,
            follower_id=state.follower.id,
            season=season,
            status=SUBMITTED,
            answers=answers,
            grade=grading,
            publicity_consent=bool(answers.get("publicity_consent")),
            id_hash=person_hash(answers["id_number"]),
            open_key=open_key(programme.code, season, answers["id_number"]),
            child_key=(
                child_key(programme.code, season, answers["child_id_number"])
                if answers.get("child_id_number")
                else None
            ),
            allotment=allotment,
            # The union the worker named decides whose staff see it; a worker not asked
            # (not a member) is placed by their employer, when that is certain.
            org_code=matched_org(
                state.session, answers.get("unit_union") or answers.get("employer")
            ),
            submitted_at=state.now,
            updated_at=state.now,
        )
        try:
            with state.session.begin_nested():
                application.reference = next_reference(
                    state.session, state.settings.union.reference_prefix, state.today.year
                )
                state.session.add(application)
                state.session.flush()
        except IntegrityError:
            # Another delivery submitted the same person (or child) a moment ago.
            raise Refused(
                f"该身份证号今年已经有一份{programme.name}申请在办理中，不能重复提交。"
                f"回复“我的申请”查看，或回复“取消”放弃这份草稿。"
            ) from None
        application.status = SUBMITTED
        record_event(state.session, application, "draft", "worker", None, state.now)
        for proof in proofs:
            state.session.add(
                ApplicationProof(
                    application_id=application.id,
                    media_id=proof["media_id"],
                    received_at=dt.datetime.fromisoformat(proof["received_at"]),
                )
            )
        lines = [
            f"提交成功！您的申请编号：{application.reference}",
            f"接下来：{programme.definition.get('process', '工作人员会尽快审核。')}",
        ]
        if grading:
            lines.append(f"初步评估：{grading}（仅供参考，以审核结果为准）。")
        lines.append(f"回复“查询 {application.reference}”查看进度；审核有结果时我们会通知您。")
        return [Text("\n".join(lines))]


def picked_programme(state: State, code: str) -> list[Reply]:
    """A number from the list: the form, opened with its privacy notice."""
    programme = get_programme(state.session, code)
    return start_application(state, programme) if programme else []


def go_programme(state: State, code: str) -> list[Reply]:
    """ "申请" after the conditions were shown (a single offer): straight into the form."""
    programme = get_programme(state.session, code)
    return start_application(state, programme, described=True) if programme else []


def switch_confirmed(state: State, code: str) -> list[Reply]:
    programme = get_programme(state.session, code)
    if programme is None:
        return []
    return start_application(state, programme, described=True, replace=True)


def switch_declined(state: State, code: str) -> list[Reply]:
    return switch.keep_draft(state, FLOW)
