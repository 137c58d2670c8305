"""The form engine (handlers/forms.py) driven directly: a small form, a fake owner, a real
draft in the database."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from handlers import forms
from handlers.flows import Flows
from handlers.form_prompts import CONTROL_HINT
from handlers.forms import Refused
from handlers.messages import Reply, Text
from handlers.state import State
from handlers.vocabulary import SUBMIT
from models.form_schema import PROOFS, SUMMARY, Field, Form
from models.handoff import HandoffRequest
from models.outbox import MEDIA, OutboxMessage
from tests.handlers.support import Chat, text_of

FLOW = "test_form"

FIELDS = (
    Field(key="name", label="姓名", prompt="请输入您的姓名。", kind="name"),
    Field(key="insured", label="有无医保", prompt="您有没有医保？", kind="yes_no"),
    Field(
        key="insurance",
        label="医保类型",
        prompt="您参加的是哪种医保？",
        kind="choice",
        choices=("职工医保", "居民医保", "新农合"),
        when={"field": "insured", "equals": True},
    ),
    Field(
        key="cost", label="自付费用", prompt="个人自付了多少钱？", kind="money", maximum=1_000_000
    ),
    Field(key="note", label="备注", prompt="还有什么要说明的？", kind="text", optional=True),
)
FORM = Form(flow=FLOW, code="plain", title="测试申请", fields=FIELDS)
PHOTOS = dataclasses.replace(FORM, code="photos", proofs=("诊断证明", "费用票据"))
REQUIRED_PHOTOS = dataclasses.replace(PHOTOS, code="required", proofs_required=True)
CONSENT = dataclasses.replace(
    FORM,
    code="consent",
    fields=(
        Field(
            key="privacy",
            label="个人信息授权",
            prompt="是否同意我们收集上述信息？",
            kind="consent",
            required=True,
            refusal="您未同意，本次申请已结束，填写的内容未保存。可到工会窗口办理。",
        ),
        *FIELDS,
    ),
)
ALL_FORMS = {form.code: form for form in (FORM, PHOTOS, REQUIRED_PHOTOS, CONSENT)}


class Owner:
    """A FormOwner that keeps what it was asked and can be told to refuse."""

    def __init__(self) -> None:
        self.forms: dict[str, Form] = dict(ALL_FORMS)
        self.submitted: list[tuple[dict, list[dict]]] = []
        self.refusal: str | None = None

    def load(self, state: State, code: str) -> Form | None:
        return self.forms.get(code)

    def check(
        self, state: State, form: Form, field: Field, value: Any, answers: dict
    ) -> str | None:
        if field.key == "cost" and value == 4444:
            return "这个金额不吉利，请核对。"
        return None

    def notes(self, state: State, form: Form, answers: dict) -> list[str]:
        return ["（初步判断：测试备注）"]

    def submit(self, state: State, form: Form, answers: dict, proofs: list[dict]) -> list[Reply]:
        if self.refusal:
            raise Refused(self.refusal)
        self.submitted.append((dict(answers), list(proofs)))
        return [Text("提交成功！")]


@pytest.fixture
def owner() -> Owner:
    return Owner()


@pytest.fixture
def chat(session, settings, follower, owner) -> Chat:
    return Chat(session, settings, follower, Flows(forms={FLOW: owner}, picks={}, confirms={}))


def start(chat: Chat, form: Form = FORM, intro: str = "") -> str:
    replies = forms.start(chat.state(), form, intro=intro)
    chat.tick()
    return text_of(replies)


def fill(chat: Chat, form: Form = FORM, insured: str = "否") -> str:
    """Start ``form`` and answer every question; return the last reply."""
    start(chat, form)
    reply = ""
    answers = ["同意"] if form is CONSENT else []
    answers += ["张三", insured] + (["1"] if insured == "是" else []) + ["1200", "无"]
    for answer in answers:
        reply = chat.form(answer)
    return reply


class TestQuestions:
    def test_start_asks_the_first_question_and_saves_an_empty_draft(self, chat):
        reply = start(chat, intro="【测试】说明在前。")
        assert reply.startswith("【测试】说明在前。\n\n【测试申请 1/5】\n请输入您的姓名。")
        assert CONTROL_HINT in reply
        draft = chat.draft(FLOW)
        assert (draft.code, draft.title, draft.step, draft.answers) == (
            "plain",
            "测试申请",
            "name",
            {},
        )

    def test_start_replaces_an_old_draft(self, chat):
        fill(chat)
        start(chat)
        assert chat.draft(FLOW).answers == {}

    def test_a_valid_answer_is_kept_and_the_next_question_shows_its_position(self, chat):
        start(chat)
        reply = chat.form("张三")
        assert "【测试申请 2/5】" in reply
        assert "您有没有医保？（回复 是 或 否）" in reply
        draft = chat.draft(FLOW)
        assert draft.answers == {"name": "张三"}
        assert draft.step == "insured"

    def test_a_wrong_answer_gets_the_reason_and_the_same_question(self, chat):
        start(chat)
        chat.form("张三")
        reply = chat.form("可能吧")
        assert reply.startswith("请回复“是”或“否”。\n【测试申请 2/5】\n您有没有医保？")
        draft = chat.draft(FLOW)
        assert draft.step == "insured"
        assert draft.answers == {"name": "张三"}

    def test_a_reply_word_is_not_taken_as_a_name(self, chat):
        start(chat)
        reply = chat.form("同意。")
        assert "“同意”不像是姓名" in reply
        assert "【测试申请 1/5】" in reply
        assert chat.draft(FLOW).answers == {}

    def test_full_width_digits_and_units_are_understood(self, chat):
        start(chat)
        for answer in ("张三", "否"):
            chat.form(answer)
        chat.form("１２００元")
        assert chat.draft(FLOW).answers["cost"] == 1200

    def test_the_owner_can_refuse_an_answer_with_its_reason(self, chat):
        start(chat)
        for answer in ("张三", "否"):
            chat.form(answer)
        reply = chat.form("4444")
        assert reply.startswith("这个金额不吉利，请核对。\n【测试申请 3/4】")
        assert "cost" not in chat.draft(FLOW).answers

    def test_an_optional_question_takes_nothing(self, chat):
        reply = fill(chat)
        assert chat.draft(FLOW).answers["note"] == ""
        assert "4 备注：（未填）" in reply

    def test_free_text_is_kept_as_typed(self, chat):
        start(chat)
        for answer in ("张三", "否", "1200"):
            chat.form(answer)
        chat.form("孩子上学，老人住院。")
        assert chat.draft(FLOW).answers["note"] == "孩子上学，老人住院。"

    def test_only_text_is_taken_at_a_question(self, chat):
        start(chat)
        reply = chat.form(kind="location")
        assert reply.startswith("这一步请回复文字。")
        assert "【测试申请 1/5】" in reply

    def test_a_form_that_is_gone_deletes_the_draft(self, chat, owner):
        start(chat)
        del owner.forms["plain"]
        reply = chat.form("张三")
        assert "已停止受理" in reply
        assert chat.draft(FLOW) is None


class TestConditions:
    def test_a_yes_asks_the_conditional_question(self, chat):
        start(chat)
        chat.form("张三")
        reply = chat.form("有")
        assert "【测试申请 3/5】\n您参加的是哪种医保？\n1 职工医保\n2 居民医保\n3 新农合" in reply
        chat.form("居民")
        assert chat.draft(FLOW).answers["insurance"] == "居民医保"

    def test_a_no_skips_it_and_the_count_shrinks(self, chat):
        start(chat)
        chat.form("张三")
        reply = chat.form("没有")
        assert "【测试申请 3/4】\n个人自付了多少钱？" in reply
        assert chat.draft(FLOW).step == "cost"

    def test_an_edit_that_makes_an_answer_moot_drops_it(self, chat):
        reply = fill(chat, insured="是")
        assert "3 医保类型：职工医保" in reply
        reply = chat.form("修改 2")
        assert "（原来填的是：是）" in reply
        reply = chat.form("否")
        assert reply.startswith("请核对您填写的信息：")
        assert "医保类型" not in reply
        assert "insurance" not in chat.draft(FLOW).answers

    def test_an_edit_that_opens_a_question_asks_it_before_the_summary(self, chat):
        fill(chat, insured="否")
        chat.form("修改 2")
        reply = chat.form("是")
        assert "【测试申请 3/5】\n您参加的是哪种医保？" in reply
        reply = chat.form("3")
        assert reply.startswith("请核对您填写的信息：")
        assert "3 医保类型：新农合" in reply


class TestBack:
    def test_back_from_the_summary_reopens_the_last_question(self, chat):
        fill(chat)
        reply = chat.form("上一步")
        assert "【测试申请 4/4】\n还有什么要说明的？" in reply
        assert "（原来填的是：（未填），不用改请回复“不变”）" in reply
        reply = chat.form("住院三次")
        assert reply.startswith("请核对您填写的信息：")
        assert "4 备注：住院三次" in reply

    def test_back_from_the_middle_then_the_form_goes_on_where_it_was(self, chat):
        start(chat)
        for answer in ("张三", "否"):
            chat.form(answer)
        reply = chat.form("返回")
        assert "【测试申请 2/4】\n您有没有医保？" in reply
        assert "（原来填的是：否，不用改请回复“不变”）" in reply
        assert chat.draft(FLOW).step == "insured"
        reply = chat.form("否")
        assert "【测试申请 3/4】\n个人自付了多少钱？" in reply  # not the question after it
        assert chat.draft(FLOW).answers == {"name": "张三", "insured": False}

    def test_back_then_a_different_answer_asks_the_question_it_opens(self, chat):
        start(chat)
        for answer in ("张三", "否"):
            chat.form(answer)
        chat.form("上一步")
        reply = chat.form("是")
        assert "【测试申请 3/5】\n您参加的是哪种医保？" in reply
        reply = chat.form("1")
        assert "【测试申请 4/5】\n个人自付了多少钱？" in reply

    def test_after_going_back_twice_each_question_comes_again_in_order(self, chat):
        start(chat)
        for answer in ("张三", "否"):
            chat.form(answer)
        chat.form("上一步")
        reply = chat.form("上一步")
        assert "【测试申请 1/4】" in reply
        assert "（原来填的是：张三，不用改请回复“不变”）" in reply
        reply = chat.form("李四")
        # Not on to the first open question: the one after the corrected answer.
        assert "【测试申请 2/4】\n您有没有医保？" in reply
        assert "（原来填的是：否，不用改请回复“不变”）" in reply
        reply = chat.form("不变")
        assert "【测试申请 3/4】\n个人自付了多少钱？" in reply
        assert chat.draft(FLOW).answers == {"name": "李四", "insured": False}

    def test_walking_back_from_the_summary_goes_through_to_the_summary(self, chat):
        fill(chat, insured="是")
        for _ in range(2):
            chat.form("上一步")
        assert "【测试申请 3/5】\n您参加的是哪种医保？" in chat.form("上一步")
        assert "【测试申请 4/5】" in chat.form("2")
        assert "【测试申请 5/5】" in chat.form("不变")
        reply = chat.form("无")
        assert reply.startswith("请核对您填写的信息：")
        assert "3 医保类型：居民医保" in reply

    def test_walking_back_ends_at_a_question_an_edit_opens(self, chat):
        fill(chat)
        for _ in range(3):
            chat.form("上一步")
        reply = chat.form("是")  # 有无医保: the 医保类型 question opens
        assert "【测试申请 3/5】\n您参加的是哪种医保？" in reply
        assert "原来填的是" not in reply
        reply = chat.form("1")
        # The walk ended at the open question: the rest was answered, on to the summary.
        assert reply.startswith("请核对您填写的信息：")
        assert "3 医保类型：职工医保" in reply

    def test_back_at_the_first_question_says_so(self, chat):
        start(chat)
        reply = chat.form("上一步")
        assert reply.startswith("已经是第一项了。\n【测试申请 1/5】")
        assert chat.draft(FLOW).step == "name"


class TestLeaving:
    def test_cancel_asks_first_and_yes_deletes_the_draft(self, chat):
        start(chat)
        chat.form("张三")
        reply = chat.form("取消")
        assert reply == "确定要取消吗？已填写的内容将被删除。回复“是”确认，回复“否”继续填写。"
        draft = chat.draft(FLOW)
        assert draft.confirming == "cancel"
        assert draft.answers == {"name": "张三"}
        reply = chat.form("是")
        assert reply.startswith("已取消测试申请，填写的内容已删除。")
        assert chat.draft(FLOW) is None

    def test_cancel_then_no_keeps_the_draft_and_asks_again(self, chat):
        start(chat)
        chat.form("张三")
        chat.form("取消")
        reply = chat.form("否")
        assert "【测试申请 2/5】\n您有没有医保？" in reply
        draft = chat.draft(FLOW)
        assert draft.confirming is None
        assert draft.answers == {"name": "张三"}
        assert draft.step == "insured"

    def test_anything_else_while_confirming_asks_for_yes_or_no(self, chat):
        start(chat)
        chat.form("取消")
        assert chat.form("张三") == "请回复“是”或“否”。"
        assert chat.draft(FLOW).confirming == "cancel"
        assert chat.draft(FLOW).answers == {}

    def test_restart_asks_first_and_yes_starts_again(self, chat):
        start(chat)
        for answer in ("张三", "否"):
            chat.form(answer)
        assert chat.form("重填").startswith("确定要清空重填吗？")
        assert chat.draft(FLOW).confirming == "restart"
        reply = chat.form("好的")
        assert reply.startswith("已清空，重新开始填写。\n\n【测试申请 1/5】")
        draft = chat.draft(FLOW)
        assert (draft.step, draft.answers, draft.confirming) == ("name", {}, None)

    def test_handoff_is_recorded_and_the_draft_kept(self, chat, session, follower):
        start(chat)
        chat.form("张三")
        reply = chat.form("人工")
        assert "已记录您的人工服务请求" in reply
        assert "12351" in reply
        assert "您填写的内容已保存，回复“继续”接着填。" in reply
        request = session.scalars(
            select(HandoffRequest).where(HandoffRequest.follower_id == follower.id)
        ).one()
        assert request.topic == "测试申请（填到：insured）"
        assert request.handled_at is None
        assert chat.draft(FLOW).answers == {"name": "张三"}
        assert "【测试申请 2/5】" in chat.form("继续")

    def test_a_refused_consent_ends_the_form(self, chat):
        start(chat, CONSENT)
        reply = chat.form("不同意")
        assert reply.startswith("您未同意，本次申请已结束")
        assert chat.draft(FLOW) is None

    def test_a_given_consent_goes_on_and_is_not_offered_for_editing(self, chat):
        reply = fill(chat, CONSENT)
        assert chat.draft(FLOW).answers["privacy"] is True
        assert "个人信息授权" not in reply
        assert "1 姓名：张三" in reply


class TestPause:
    def test_idle_time_pauses_the_draft_and_the_answer_waits(self, chat):
        start(chat)
        chat.form("张三")
        # Not for the form after the pause: the router answers it and offers the form.
        assert chat.later(minutes=31).form("否") is None
        draft = chat.draft(FLOW)
        assert draft.paused
        assert draft.answers == {"name": "张三"}

    def test_exactly_the_idle_limit_is_not_idle(self, chat):
        start(chat)
        chat.form("张三")
        reply = chat.later(minutes=30).form("否")
        assert "【测试申请 3/4】" in reply
        assert not chat.draft(FLOW).paused

    def test_a_wrong_answer_is_activity_too(self, chat):
        start(chat)
        chat.later(minutes=20).form("同意")
        reply = chat.later(minutes=20).form("张三")
        assert "【测试申请 2/5】" in reply

    def test_while_paused_only_resume_and_cancel_are_taken(self, chat):
        start(chat)
        chat.form("张三")
        chat.later(hours=2).form("否")
        assert chat.form("帮助") is None
        assert chat.form("否") is None
        assert chat.draft(FLOW).paused
        assert chat.draft(FLOW).answers == {"name": "张三"}
        reply = chat.later(minutes=5).form("继续")
        assert "【测试申请 2/5】\n您有没有医保？" in reply
        assert not chat.draft(FLOW).paused
        assert "【测试申请 3/4】" in chat.later(minutes=1).form("否")

    def test_cancel_while_paused_deletes_the_draft(self, chat):
        start(chat)
        chat.later(hours=2).form("张三")
        assert chat.form("取消").startswith("已取消测试申请")
        assert chat.draft(FLOW) is None


class TestSummary:
    def test_the_summary_numbers_the_answers_and_shows_the_owner_notes(self, chat):
        reply = fill(chat)
        assert reply.splitlines() == [
            "请核对您填写的信息：",
            "1 姓名：张三",
            "2 有无医保：否",
            "3 自付费用：1200元",
            "4 备注：（未填）",
            "（初步判断：测试备注）",
            "回复“确认”提交；回复“修改 数字”修改某一项，例如“修改 2”；回复“取消”放弃。",
        ]
        assert chat.draft(FLOW).step == SUMMARY

    def test_edit_n_reopens_that_question_and_returns_to_the_summary(self, chat):
        fill(chat)
        reply = chat.form("修改 3")
        assert "个人自付了多少钱？" in reply
        assert "（原来填的是：1200元）" in reply
        reply = chat.form("1500")
        assert "3 自付费用：1500元" in reply
        assert chat.draft(FLOW).step == SUMMARY

    @pytest.mark.parametrize("words", ["改第1项", "修改1", "修改　１"])
    def test_edit_is_understood_in_other_wordings(self, chat, words):
        fill(chat)
        assert "（原来填的是：张三）" in chat.form(words)

    def test_edit_out_of_range(self, chat):
        fill(chat)
        assert chat.form("修改 9") == "没有第9项，请回复 1 到 4 之间的数字。"
        assert chat.draft(FLOW).step == SUMMARY

    @pytest.mark.parametrize("words", ["是", "好的", "1", "ok", "提交吧", "同意"])
    def test_only_a_submit_word_submits(self, chat, owner, words):
        fill(chat)
        reply = chat.form(words)
        assert "回复“确认”提交" in reply
        assert owner.submitted == []
        assert chat.draft(FLOW).step == SUMMARY

    @pytest.mark.parametrize("words", [*sorted(SUBMIT), "确认。", "提交！"])
    def test_a_submit_word_submits_and_ends_the_draft(self, chat, owner, words):
        fill(chat)
        assert chat.form(words) == "提交成功！"
        assert owner.submitted == [
            ({"name": "张三", "insured": False, "cost": 1200, "note": ""}, [])
        ]
        assert chat.draft(FLOW) is None

    def test_a_refused_submit_keeps_the_draft(self, chat, owner):
        fill(chat)
        owner.refusal = "名额已满，未能提交。"
        assert chat.form("确认") == "名额已满，未能提交。"
        assert owner.submitted == []
        draft = chat.draft(FLOW)
        assert draft.step == SUMMARY
        assert draft.answers["name"] == "张三"
        owner.refusal = None
        assert chat.form("确认") == "提交成功！"


def media(n: int) -> str:
    """Media ids unique to this run: the outbox's keys are global."""
    return f"direct-{uuid.uuid4().hex}-{n}"


def outbox_rows(session, media_id: str) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == f"media:{media_id}")
        )
    )


class TestPhotos:
    def test_the_photo_step_follows_the_questions(self, chat):
        reply = fill(chat, PHOTOS)
        assert reply.startswith("请拍照发送以下材料：诊断证明、费用票据。\n已收到0张。")
        assert "暂时没有可回复“跳过”" in reply
        assert chat.draft(FLOW).step == PROOFS

    def test_photos_are_counted_and_queued_for_download(self, chat, session, follower):
        fill(chat, PHOTOS)
        first, second = media(1), media(2)
        sent_at = chat.now
        assert chat.photo(first) == "已收到第1张。还有请继续发送，发完回复“完成”。"
        assert chat.photo(second).startswith("已收到第2张。")
        draft = chat.draft(FLOW)
        assert [p["media_id"] for p in draft.proofs] == [first, second]
        assert draft.proofs[0]["received_at"] == sent_at.isoformat()
        [row] = outbox_rows(session, first)
        assert (row.channel, row.kind, row.payload, row.follower_id) == (
            MEDIA,
            "proof",
            {"media_id": first},
            follower.id,
        )
        reply = chat.form("完成")
        assert "照片材料：2张" in reply
        assert chat.form("确认") == "提交成功！"

    def test_a_photo_sent_twice_counts_once(self, chat, session):
        fill(chat, PHOTOS)
        photo = media(1)
        chat.photo(photo)
        assert chat.photo(photo) == "这张照片已经收到了（共1张）。"
        assert len(chat.draft(FLOW).proofs) == 1
        assert len(outbox_rows(session, photo)) == 1

    def test_the_photo_limit_is_enforced(self, chat, session, settings):
        chat.settings = dataclasses.replace(
            settings, forms=dataclasses.replace(settings.forms, max_proofs=2)
        )
        fill(chat, PHOTOS)
        chat.photo(media(1))
        chat.photo(media(2))
        third = media(3)
        assert chat.photo(third) == "照片最多2张，已经够了。请回复“完成”。"
        assert len(chat.draft(FLOW).proofs) == 2
        assert outbox_rows(session, third) == []

    def test_a_photo_before_the_photo_step_is_not_kept(self, chat, session):
        start(chat, PHOTOS)
        photo = media(1)
        reply = chat.photo(photo)
        assert reply.startswith("现在还不需要照片，请先回答问题。\n【测试申请 1/6】")
        assert chat.draft(FLOW).proofs == []
        assert outbox_rows(session, photo) == []

    def test_finish_without_photos_asks_for_them_and_skip_defers(self, chat, owner):
        fill(chat, PHOTOS)
        assert chat.form("完成") == "还没有收到照片。请拍照发送材料，或回复“跳过”之后补交。"
        assert chat.draft(FLOW).step == PROOFS
        reply = chat.form("跳过")
        assert "照片材料：0张" in reply
        chat.form("确认")
        assert owner.submitted[0][1] == []

    def test_required_photos_cannot_be_skipped(self, chat):
        reply = fill(chat, REQUIRED_PHOTOS)
        assert "跳过" not in reply
        reply = chat.form("跳过")
        assert reply.startswith("还没有收到照片。请拍照发送：诊断证明、费用票据。")
        assert "保留30天" in reply
        assert chat.draft(FLOW).step == PROOFS

    def test_text_at_the_photo_step_asks_for_photos(self, chat):
        fill(chat, PHOTOS)
        reply = chat.form("诊断书")
        assert reply.startswith("这一步请直接发送照片。\n请拍照发送以下材料")

    def test_back_from_the_summary_reopens_the_photos(self, chat):
        fill(chat, PHOTOS)
        photo = media(1)
        chat.photo(photo)
        chat.form("完成")
        reply = chat.form("上一步")
        assert "已收到1张" in reply
        assert chat.photo(media(2)).startswith("已收到第2张。")
        assert "照片材料：2张" in chat.form("完成")
