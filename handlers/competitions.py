"""Competition sign-up in the chat: the list, details, the sign-up form, waitlist, cancel.

Places are decided at submit, under a lock on the competition's row: the
worker is confirmed while places remain and waitlisted after; a cancellation
promotes the first on the waitlist and queues a notice to them.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError

from handlers import confirm, forms, picks, switch
from handlers.forms import Refused
from handlers.messages import Inbound, Reply, Text
from handlers.seasons import closed_text, out_of_season, window_text
from handlers.state import State
from handlers.text import fold
from models.aid import person_hash
from models.competition import (
    CONFIRMED,
    ENTRY_LABELS,
    WAITLISTED,
    Competition,
    CompetitionEntry,
    competitions,
    count_entries,
    event_day,
    find_entry,
    lock_competition,
    person_key,
    unit_taken,
    waitlist,
)
from models.consent import PRIVACY, record_consent
from models.form_schema import Field, Form, fields_from
from models.org_matching import matched_org
from models.windows import window_on

FLOW = "competition"
KIND = "competition"
SWITCH = "competition_switch"  # the yes/no question before replacing another sign-up draft
# What a sign-up is called, by the competition's kind (a proposal is submitted, not entered).
SUBMITTED = {"innovation": "申报成功", "proposal": "提交成功", "nomination": "推荐已提交"}


def season_window(state: State, competition: Competition):
    return window_on(competition.opens, competition.closes, state.today)


def unit_of(employer: str) -> str:
    """Employers typed by different workers, folded so one unit counts once."""
    return re.sub(r"[\s()（）·.,，、]", "", fold(employer)).upper()[:100]


def places_text(state: State, competition: Competition, season: int) -> str:
    if competition.capacity is None:
        return "不限名额"
    taken = count_entries(state.session, competition.code, season, CONFIRMED)
    left = max(competition.capacity - taken, 0)
    if left:
        return f"剩余{left}个名额（共{competition.capacity}个）"
    waiting = count_entries(state.session, competition.code, season, WAITLISTED)
    return f"名额已满（共{competition.capacity}个），可报名候补，目前候补{waiting}人"


def describe(state: State, competition: Competition) -> str:
    window = season_window(state, competition)
    definition = competition.definition
    lines = [f"【{competition.title}】", competition.description]
    lines.append(f"报名时间：{window_text(competition)}")
    day = event_day(competition, window.season)
    if day:
        lines.append(f"比赛时间：{day.month}月{day.day}日 {competition.event_time}")
    if competition.place:
        lines.append(f"地点：{competition.place}")
    if definition.get("format"):
        lines.append(f"赛制：{definition['format']}")
    if definition.get("awards"):
        lines.append(f"奖励：{definition['awards']}")
    if competition.per_unit:
        lines.append(f"每个单位最多报{competition.per_unit}人")
    if window.open:
        lines.append(f"名额：{places_text(state, competition, window.season)}")
    return "\n".join(lines)


def competition_list(message: Inbound, state: State) -> list[Reply]:
    """``竞赛`` / ``报名``: what is open now, numbered, with deadline and places left."""
    listed = [c for c in competitions(state.session) if season_window(state, c).open]
    if not listed:
        return [
            Text(
                "目前没有正在报名的竞赛。回复“竞赛结果”查看往期结果，或拨打 "
                f"{state.settings.union.hotline} 咨询。"
            )
        ]
    lines = ["正在报名的竞赛："]
    for number, competition in enumerate(listed, 1):
        window = season_window(state, competition)
        deadline = (
            f"截止{competition.closes[:2].lstrip('0')}月{competition.closes[3:].lstrip('0')}日"
            if competition.closes
            else "常年征集"
        )
        places = places_text(state, competition, window.season)
        lines.append(f"{number} {competition.title}｜{deadline}｜{places}")
    lines.append("回复数字查看详情和报名；回复“我的报名”查看已报名的竞赛。")
    picks.offer(state, KIND, [c.code for c in listed])
    return [Text("\n".join(lines))]


def show(state: State, competition: Competition) -> list[Reply]:
    """Details first; if sign-up is open, "报名" starts the form. Out of season the
    next opening leads, and the details are cut to the title and description."""
    if not season_window(state, competition).open:
        [closed] = out_of_season(state, competition, "报名")
        return [Text(f"【{competition.title}】{competition.description}\n{closed.content}")]
    info = describe(state, competition)
    picks.offer(state, KIND, [competition.code])
    return [Text(f"{info}\n\n回复“报名”开始报名。")]


def picked_competition(state: State, code: str) -> list[Reply]:
    competition = state.session.get(Competition, code)
    return show(state, competition) if competition else []


def go_competition(state: State, code: str) -> list[Reply]:
    competition = state.session.get(Competition, code)
    return start_signup(state, competition) if competition else []


def start_signup(state: State, competition: Competition, replace: bool = False) -> list[Reply]:
    """Open the sign-up form; another contest's draft is replaced only after a 是."""
    window = season_window(state, competition)
    if not competition.active:
        return [Text(closed_text(state, competition.title, competition, "报名"))]
    if not window.open:
        return out_of_season(state, competition, "报名")
    waiting = None if replace else switch.waiting_draft(state, FLOW)
    if waiting is not None:
        if waiting.code == competition.code:
            return switch.already_open(waiting)
        wanted = f"报名“{competition.title}”"
        return confirm.ask(state, SWITCH, competition.code, *switch.question(waiting, wanted))
    intro = f"开始报名“{competition.title}”。"
    if (
        competition.capacity is not None
        and count_entries(state.session, competition.code, window.season, CONFIRMED)
        >= competition.capacity
    ):
        intro += "名额已满，报名后将进入候补，有人取消时按顺序递补。"
    return forms.start(state, build_form(state, competition), intro=intro)


def build_form(state: State, competition: Competition) -> Form:
    definition = competition.definition
    union = state.settings.union
    notice = definition["privacy_notice"].format(title=competition.title, hotline=union.hotline)
    refusal = definition["privacy_refusal"].format(hotline=union.hotline)
    return Form(
        flow=FLOW,
        code=competition.code,
        title=f"“{competition.title}”报名",
        fields=fields_from(definition["fields"], notice=notice, refusal=refusal),
        proofs=tuple(definition.get("proofs", ())),
        proofs_required=False,
        notice_version=definition.get("notice_version", ""),
    )


class SignupForm:
    """The :class:`~handlers.forms.FormOwner` of competition sign-ups."""

    def load(self, state: State, code: str) -> Form | None:
        competition = state.session.get(Competition, code)
        if competition is None or not competition.active:
            return None
        return build_form(state, competition)

    def check(
        self, state: State, form: Form, field: Field, value: Any, answers: dict
    ) -> str | None:
        competition = state.session.get(Competition, form.code)
        season = season_window(state, competition).season
        if field.kind == "consent":
            record_consent(
                state.session,
                state.follower.id,
                PRIVACY,
                f"competition:{form.code}",
                form.notice_version,
                value,
                state.now,
            )
            return None
        if field.key == "id_number":
            existing = find_entry(state.session, person_key(form.code, season, value))
            if existing is not None:
                status = ENTRY_LABELS[existing.status]
                return (
                    f"该身份证号已经报名了“{competition.title}”（{status}），不能重复报名。"
                    "回复“我的报名”查看；回复“取消”退出。"
                )
        if field.key == "employer" and competition.per_unit:
            taken = unit_taken(state.session, competition.code, season, unit_of(value))
            if taken >= competition.per_unit:
                return _unit_full(competition, taken)
        minimum = competition.definition.get("minimums", {}).get(field.key)
        if minimum is not None and value < minimum:
            return f"“{competition.title}”要求{field.label}满{minimum}{field.unit or ''}。"
        return None

    def notes(self, state: State, form: Form, answers: dict) -> list[str]:
        return []

    def submit(self, state: State, form: Form, answers: dict, proofs: list[dict]) -> list[Reply]:
        competition = lock_competition(state.session, form.code)  # sign-ups take turns here
        window = season_window(state, competition)
        if not window.open:
            raise Refused(closed_text(state, competition.title, competition, "报名"))
        season = window.season
        if competition.per_unit:
            taken = unit_taken(
                state.session, competition.code, season, unit_of(answers["employer"])
            )
            if taken >= competition.per_unit:
                raise Refused(_unit_full(competition, taken) + "回复“取消”退出。")
        confirmed = count_entries(state.session, competition.code, season, CONFIRMED)
        full = competition.capacity is not None and confirmed >= competition.capacity
        entry = CompetitionEntry(
            competition_code=competition.code,
            follower_id=state.follower.id,
            season=season,
            status=WAITLISTED if full else CONFIRMED,
            answers={**answers, "photos": [p["media_id"] for p in proofs]},
            unit=unit_of(answers.get("employer", "")),
            org_code=matched_org(state.session, answers.get("employer")),
            id_hash=person_hash(answers["id_number"]),
            person_key=person_key(competition.code, season, answers["id_number"]),
            created_at=state.now,
            updated_at=state.now,
        )
        try:
            with state.session.begin_nested():
                state.session.add(entry)
                state.session.flush()
        except IntegrityError:
            raise Refused(
                f"该身份证号已经报名了“{competition.title}”，不能重复报名。回复“取消”退出。"
            ) from None
        if full:
            position = len(waitlist(state.session, competition.code, season))
            return [
                Text(
                    f"“{competition.title}”名额已满，您已进入候补，候补第{position}位。"
                    "有人取消时按顺序递补，我们会通知您。回复“我的报名”查看。"
                )
            ]
        day = event_day(competition, season)
        lines = [f"{SUBMITTED.get(competition.kind, '报名成功')}！“{competition.title}”"]
        if day:
            when = f"{day.month}月{day.day}日 {competition.event_time}"
            lines.append(f"比赛时间地点：{when} {competition.place}".strip())
            lines.append("赛前我们会提醒您。如需取消，回复“我的报名”。")
        else:
            lines.append("评审有结果时我们会通知您。如需撤回，回复“我的报名”。")
        return [Text("\n".join(lines))]


def _unit_full(competition: Competition, taken: int) -> str:
    return (
        f"您的单位已有{taken}人报名“{competition.title}”，每个单位最多{competition.per_unit}人，"
        "名额已用完。请联系单位工会协调。"
    )


def switch_confirmed(state: State, code: str) -> list[Reply]:
    competition = state.session.get(Competition, code)
    return start_signup(state, competition, replace=True) if competition else []


def switch_declined(state: State, code: str) -> list[Reply]:
    return switch.keep_draft(state, FLOW)
