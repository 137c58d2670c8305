"""handlers/router.py: which handler a message gets, and what a waiting conversation does."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from handlers import (
    aid,
    applications,
    benefits,
    campaign_reports,
    competitions,
    confirm,
    followers,
    forms,
    intents,
    menu,
    mine,
    picks,
    router,
)
from handlers.flows import Flows
from handlers.homophones import correct
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from models.conversation import find_conversation, save_conversation
from models.form_schema import Field, Form
from tests.handlers.support import NOW, Chat

FLOW = "router_test_form"
FORM = Form(
    flow=FLOW,
    code="test",
    title="测试申请",
    fields=(
        Field(key="name", label="姓名", prompt="请输入您的姓名。", kind="name"),
        Field(key="phone", label="手机号", prompt="请输入手机号。", kind="phone"),
    ),
)
PAUSE_NOTICE = "您有一份未完成的测试申请，回复“继续”接着填，回复“取消”放弃。"


class Owner:
    def load(self, state: State, code: str) -> Form | None:
        return FORM

    def check(self, state, form, field, value, answers) -> str | None:
        return None

    def notes(self, state, form, answers) -> list[str]:
        return []

    def submit(self, state, form, answers, proofs) -> list[Reply]:
        return [Text("提交成功！")]


class Actions:
    """What picking from a list or answering a question does: recorded, not performed."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []

    def __call__(self, name: str):
        def action(state: State, subject: str) -> list[Reply]:
            self.done.append((name, subject))
            return [Text(f"{name}:{subject}")]

        return action


@pytest.fixture
def actions() -> Actions:
    return Actions()


@pytest.fixture
def chat(session, settings, follower, actions) -> Chat:
    flows = Flows(
        forms={FLOW: Owner()},
        picks={"fruit": (actions("picked"), actions("go"))},
        confirms={"drop": (actions("yes"), actions("no"))},
    )
    return Chat(session, settings, follower, flows)


def message(kind: str = "text", text: str = "", **fields: Any) -> Inbound:
    return Inbound(openid="o-router", kind=kind, sent_at=NOW, text=text, **fields)


def event(name: str, key: str = "") -> Inbound:
    return message("event", event=name, key=key)


def routed(chat: Chat, inbound: Inbound):
    return router.route(inbound, chat.state())


class TestKeywords:
    @pytest.mark.parametrize(
        ("text", "handler"),
        [
            ("帮助", menu.show_menu),
            ("帮助。", menu.show_menu),
            ("菜单！", menu.show_menu),
            ("?", menu.show_menu),
            ("？", menu.show_menu),
            ("HELP", menu.show_menu),
            ("ｈｅｌｐ", menu.show_menu),
            (" 帮扶 ", aid.aid_menu),
            ("帮扶？", aid.aid_menu),
            ("竞赛报名", competitions.competition_list),
            ("我的申请", applications.my_applications),
            ("在吗?", menu.greet),
            ("Hello", menu.greet),
            ("人工", menu.staff_contact),
        ],
    )
    def test_keywords_are_matched_after_folding(self, text, handler):
        assert router.route_keyword(text) is handler

    @pytest.mark.parametrize(
        ("number", "handler"),
        [
            ("1", aid.aid_menu),
            ("２", competitions.competition_list),
            ("3", benefits.benefits_menu),
            ("4。", mine.my_records),
            ("5", menu.staff_contact),
        ],
    )
    def test_menu_numbers_stand_for_their_keywords(self, number, handler):
        assert router.route_keyword(number) is handler

    @pytest.mark.parametrize("text", ["孩子考上大学能申请助学吗", "6", "帮助我", ""])
    def test_anything_else_is_for_intents(self, text):
        assert router.route_keyword(text) is intents.understand


class TestMessages:
    def test_text_is_routed_by_keyword(self, chat):
        assert routed(chat, message(text="菜单。")) is menu.show_menu
        assert routed(chat, message(text="想问问大病救助")) is intents.understand

    def test_voice_is_routed_by_its_recognition(self, chat):
        assert routed(chat, message("voice", text="帮助。")) is menu.show_menu
        assert routed(chat, message("voice", text="")) is menu.voice_not_recognised

    @pytest.mark.parametrize(
        ("kind", "handler"),
        [
            ("image", applications.photo_outside_form),
            ("video", menu.media_outside_form),
            ("shortvideo", menu.media_outside_form),
            ("location", menu.location_received),
            ("link", menu.link_received),
            ("file", menu.unsupported),
            ("unknown", menu.unsupported),
        ],
    )
    def test_other_messages_outside_a_form(self, chat, kind, handler):
        assert routed(chat, message(kind)) is handler

    def test_replies_outside_a_form(self, chat):
        assert chat.send(kind="image", media_id="m1").startswith("收到。照片等材料请在申请过程中")
        assert chat.send(kind="location", fields={"Label": "射阳县"}).startswith(
            "已收到位置：射阳县。"
        )
        assert chat.send(kind="voice").startswith("抱歉，没能识别这段语音")
        assert chat.send("帮助。").startswith("回复数字或关键词：\n1 帮扶")


class TestEvents:
    @pytest.mark.parametrize(
        ("name", "handler"),
        [
            ("subscribe", followers.subscribed),
            ("subscribe_scan", followers.subscribed),
            ("unsubscribe", followers.unsubscribed),
            ("scan", menu.welcome),
            ("view", router.no_reply),
            ("location", router.no_reply),
            ("templatesendjobfinish", campaign_reports.template_job_finished),
            ("masssendjobfinish", campaign_reports.mass_job_finished),
            ("subscribe_msg_popup_event", followers.subscription_choices),
            ("subscribe_msg_change_event", followers.subscription_choices),
            ("subscribe_msg_sent_event", campaign_reports.subscribe_notice_sent),
            ("something_new", router.no_reply),
        ],
    )
    def test_events_by_name(self, chat, name, handler):
        assert routed(chat, event(name)) is handler

    @pytest.mark.parametrize(
        ("key", "handler"),
        [
            ("AID", aid.aid_menu),
            ("COMPETITION", competitions.competition_list),
            ("BENEFITS", benefits.benefits_menu),
            ("MINE", mine.my_records),
            ("STAFF", menu.staff_contact),
            ("HELP", menu.show_menu),
            ("NO_SUCH_KEY", intents.understand),
        ],
    )
    def test_a_menu_click_routes_like_its_keyword(self, chat, key, handler):
        assert routed(chat, event("click", key)) is handler

    def test_events_pass_a_waiting_conversation_by(self, chat):
        forms.start(chat.state(), FORM)
        assert routed(chat, event("click", "HELP")) is menu.show_menu
        assert "回复数字或关键词" in chat.send(kind="event", event="click", key="HELP")
        assert chat.draft(FLOW).step == "name"


class TestWaitingConversations:
    def test_a_waiting_conversation_takes_the_message_first(self, chat):
        forms.start(chat.state(), FORM)
        assert routed(chat, message(text="竞赛")) is router.converse
        # A menu word where a name was asked: answered, and the question asked again.
        reply = chat.send("竞赛")
        assert reply.startswith("目前没有正在报名的竞赛") or reply.startswith("正在报名的竞赛")
        assert reply.endswith(
            "测试申请还没填完，回复“继续”接着填：\n【测试申请 1/2】\n请输入您的姓名。"
        )
        assert chat.draft(FLOW).step == "name"

    def test_a_form_takes_a_keyword_as_its_answer(self, chat):
        forms.start(chat.state(), FORM)
        chat.send("张三")
        reply = chat.send("1")  # a menu number, but the form asked for a phone
        assert reply.startswith("手机号应为1开头的11位数字")
        assert chat.draft(FLOW).answers == {"name": "张三"}

    def test_a_number_picks_from_the_offered_list(self, chat, actions):
        picks.offer(chat.state(), "fruit", ["apple", "pear"])
        assert chat.send("２") == "picked:pear"
        assert actions.done == [("picked", "pear")]
        assert find_conversation(chat.session, chat.follower.id, picks.FLOW) is None

    def test_a_go_word_starts_the_only_thing_offered(self, chat, actions):
        picks.offer(chat.state(), "fruit", ["apple"])
        assert chat.send("申请") == "go:apple"

    def test_anything_else_ends_the_list_and_is_routed_as_usual(self, chat, actions):
        picks.offer(chat.state(), "fruit", ["apple", "pear"])
        assert chat.send("帮助").startswith("回复数字或关键词：")
        assert actions.done == []
        assert find_conversation(chat.session, chat.follower.id, picks.FLOW) is None

    @pytest.mark.parametrize(
        ("answer", "done"), [("是的", ("yes", "42")), ("否", ("no", "42")), ("保留", ("no", "42"))]
    )
    def test_a_question_takes_yes_or_no(self, chat, actions, answer, done):
        reply = text_of_ask(chat)
        assert reply == "确定要放弃吗？回复“是”确认，回复“否”保留。"
        chat.send(answer)
        assert actions.done == [done]
        assert find_conversation(chat.session, chat.follower.id, confirm.FLOW) is None

    def test_anything_else_drops_the_question(self, chat, actions):
        text_of_ask(chat)
        assert chat.send("菜单").startswith("回复数字或关键词：")
        assert actions.done == []
        assert find_conversation(chat.session, chat.follower.id, confirm.FLOW) is None

    def test_an_undeclared_flow_is_routed_as_usual_and_logged(self, chat, caplog):
        save_conversation(chat.session, chat.follower.id, "ghost", {"step": "x"}, chat.now)
        with caplog.at_level(logging.ERROR, logger="handlers.router"):
            reply = chat.send("帮助")
        assert reply.startswith("回复数字或关键词：")
        assert "conversation flow 'ghost' has no handler" in caplog.text
        # Kept, not lost: a deploy that declares the flow again finds the draft.
        assert find_conversation(chat.session, chat.follower.id, "ghost") is not None

    def test_a_list_of_an_undeclared_kind_is_routed_as_usual_and_logged(self, chat, caplog):
        picks.offer(chat.state(), "vegetable", ["leek"])
        with caplog.at_level(logging.ERROR, logger="handlers.picks"):
            assert chat.send("帮助").startswith("回复数字或关键词：")
        assert "list kind 'vegetable' has no handler" in caplog.text
        assert find_conversation(chat.session, chat.follower.id, picks.FLOW) is None

    def test_a_question_of_an_undeclared_kind_is_routed_as_usual_and_logged(self, chat, caplog):
        confirm.ask(chat.state(), "vanish", "7", "确定吗？")
        with caplog.at_level(logging.ERROR, logger="handlers.confirm"):
            assert chat.send("帮助").startswith("回复数字或关键词：")
        assert "question kind 'vanish' has no handler" in caplog.text
        assert find_conversation(chat.session, chat.follower.id, confirm.FLOW) is None


def text_of_ask(chat: Chat) -> str:
    [reply] = confirm.ask(chat.state(), "drop", "42", "确定要放弃吗？")
    chat.tick()
    return reply.content


class TestPausedForm:
    def paused(self, chat: Chat) -> None:
        forms.start(chat.state(), FORM)
        chat.tick()
        chat.send("张三")
        # The first message after the pause is answered, with the form offered.
        reply = chat.later(hours=2).send("帮助")
        assert reply.startswith("回复数字或关键词：") and reply.endswith("\n" + PAUSE_NOTICE)
        assert chat.draft(FLOW).paused

    def test_something_else_is_answered_with_the_pause_notice_added(self, chat):
        self.paused(chat)
        reply = chat.send("帮助")
        assert reply.startswith("回复数字或关键词：")
        assert reply.endswith("\n" + PAUSE_NOTICE)
        draft = chat.draft(FLOW)
        assert draft.paused
        assert draft.answers == {"name": "张三"}

    def test_resume_goes_on_with_the_form(self, chat):
        self.paused(chat)
        reply = chat.send("继续")
        assert "【测试申请 2/2】\n请输入手机号。" in reply
        assert not chat.draft(FLOW).paused

    def test_a_list_offered_meanwhile_does_not_hide_the_paused_form(self, chat):
        # The worker asked for a list while the form was paused (the reply ended with
        # "回复“继续”接着填") and now says 继续.
        self.paused(chat)
        picks.offer(chat.state(), "fruit", ["apple", "pear"])
        chat.tick()
        reply = chat.send("继续")
        assert "【测试申请 2/2】\n请输入手机号。" in reply
        assert not chat.draft(FLOW).paused
        assert find_conversation(chat.session, chat.follower.id, picks.FLOW) is None

    def test_a_list_offered_during_a_form_leaves_it_the_answer(self, chat, actions):
        # A menu click shows a list while the form waits; the worker goes on answering.
        forms.start(chat.state(), FORM)
        chat.tick()
        picks.offer(chat.state(), "fruit", ["apple", "pear"])
        chat.tick()
        reply = chat.send("张三")
        assert "【测试申请 2/2】\n请输入手机号。" in reply
        assert chat.draft(FLOW).answers == {"name": "张三"}
        assert actions.done == []

    def test_a_list_offered_meanwhile_still_takes_its_number(self, chat, actions):
        self.paused(chat)
        picks.offer(chat.state(), "fruit", ["apple", "pear"])
        chat.tick()
        assert chat.send("1").startswith("picked:apple")
        assert actions.done == [("picked", "apple")]
        assert chat.draft(FLOW).paused


class TestSoundAlikeWords:
    """A slip of the pinyin keyboard keeps some of the keyword; a different word that only
    sounds alike is left alone."""

    @pytest.mark.parametrize(
        ("typed", "read"),
        [("申情", "申请"), ("帮付", "帮扶"), ("竟赛结果", "竞赛结果"), ("取消抱名", "取消报名")],
    )
    def test_a_slip_is_read_as_the_keyword(self, typed, read):
        assert correct(typed) == read

    @pytest.mark.parametrize("typed", ["歇歇", "哪里可以歇歇脚", "互助金多久"])
    def test_another_word_that_sounds_alike_is_kept(self, typed):
        assert correct(typed) == typed
