"""The last reply is the context of the next message: "怎么申请" after a card, "第二个"
after a list, "要什么材料" after a programme's details; and keywords typed with a
character of the same sound (through the signed webhook)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Conversation
from tests.helpers import Worker, open_all_windows


@pytest.fixture
def worker(wechat, db) -> Worker:
    open_all_windows(db)
    return Worker(wechat)


def aid_draft(db) -> dict | None:
    db.rollback()
    row = db.scalars(select(Conversation).where(Conversation.flow == "aid")).one_or_none()
    return row.data if row else None


class TestAfterAProgrammesCard:
    @pytest.mark.parametrize("said", ["怎么申请", "我要申请", "申请", "那我申请一下", "咋申请呢"])
    def test_apply_words_start_the_programme_just_shown(self, worker, db, said):
        """Seen: "怎么申请" after the 大病帮扶 card showed the 入会 card."""
        assert "回复“申请”开始填写" in worker.say("大病帮扶要什么条件")
        reply = worker.say(said)
        assert "【大病帮扶申请 1/" in reply and "入会" not in reply
        assert aid_draft(db)["code"] == "illness"

    def test_the_card_and_the_privacy_notice_come_in_separate_replies(self, worker):
        card = worker.say("大病帮扶要什么条件")
        assert "需要材料" in card and "个人信息保护告知" not in card
        started = worker.say("申请")
        assert "个人信息保护告知" in started and "需要材料（拍照发送）" not in started
        assert len(card) <= 300 and len(started) <= 340

    def test_what_to_bring_after_the_details_is_about_that_programme(self, worker):
        assert "【金秋助学】" in worker.say("金秋助学能给多少钱")
        reply = worker.say("要什么材料")
        assert "录取通知书" in reply and "没听懂" not in reply


class TestAfterAList:
    @pytest.mark.parametrize("said", ["第二个", "2", "选第2个", "二"])
    def test_an_ordinal_picks_from_the_list_just_shown(self, worker, db, said):
        worker.say("帮扶")
        reply = worker.say(said)
        assert "开始填写大病帮扶申请" in reply and "诊断证明" in reply
        assert aid_draft(db)["code"] == "illness"

    def test_a_number_past_the_list_is_not_a_pick(self, worker, db):
        worker.say("帮扶")
        assert "开始填写" not in worker.say("第九个")
        assert aid_draft(db) is None


class TestAfterABenefitsAnswer:
    def test_a_short_follow_up_stays_on_the_topic(self, worker):
        assert "300" in worker.say("高温补贴一个月多少钱")
        reply = worker.say("室内的有没有")
        assert "高温津贴" in reply and "没听懂" not in reply

    def test_a_short_question_out_of_the_blue_is_not_understood(self, worker):
        assert "没听懂" in worker.say("室内的有没有")


class TestSoundAlikeKeywords:
    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("申情", "可以在线申请的帮扶项目"),
            ("帮付", "可以在线申请的帮扶项目"),
            ("竟赛", "正在报名的竞赛"),
            ("我要申情帮付", "可以在线申请的帮扶项目"),
        ],
    )
    def test_a_homophone_typo_reaches_the_keyword(self, worker, typed, expected):
        assert expected in worker.say(typed)

    def test_names_in_a_form_are_kept_as_typed(self, worker, db):
        worker.say("帮扶")
        worker.say("1")
        worker.say("同意")
        worker.say("申晴")  # a name that sounds like 申请 is a name, not a keyword
        assert aid_draft(db)["answers"]["name"] == "申晴"
