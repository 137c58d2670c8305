"""The benefits catalogue (普惠服务): the matcher on workers' phrasing, and the replies.

The matcher tests are pure (handlers.benefit_matcher): the catalogue is read from
models/data/benefits.toml into Benefit objects, no database. The reply tests run the handlers on the
seeded database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set); the
router wiring and the webhook tests come with it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from handlers import benefits, picks
from handlers.benefit_matcher import CONFIDENT, Match, match, rank
from handlers.messages import Inbound, Reply
from handlers.state import State
from models import Benefit, Conversation
from models.base import utcnow
from models.conversation import get_conversation
from models.follower import lock_follower
from models.seed import load_benefits, seed_benefits

QUESTIONS = Path(__file__).parents[1] / "data" / "benefit_questions.toml"
DOMAIN_CODES = {
    "join",
    "member_card",
    "hotline",
    "legal_aid",
    "recuperation",
    "reading_room",
    "matchmaking",
    "mutual_aid",
    "screening",
    "model_worker",
    "high_temp",
    "rest_station",
    "training",
}


def catalogue() -> list[Benefit]:
    return [Benefit(**row, active=True) for row in load_benefits()]


CATALOGUE = catalogue()
CODES = {b.code for b in CATALOGUE}


def labelled() -> dict[str, list[str]]:
    with QUESTIONS.open("rb") as fh:
        return tomllib.load(fh)


def codes_of(text: str) -> list[str]:
    return [b.code for b in match(CATALOGUE, text).benefits]


class TestCatalogueData:
    def test_it_has_the_thirteen_benefits_of_the_brief(self):
        assert DOMAIN_CODES <= CODES

    @pytest.mark.parametrize("benefit", CATALOGUE, ids=lambda b: b.code)
    def test_each_entry_is_complete_and_fits_a_phone_screen(self, benefit):
        assert benefit.title and benefit.audience and benefit.how
        assert len(benefit.answer) <= 90
        assert len(benefit.matching["keywords"]) >= 3
        assert len(benefit.matching["questions"]) >= 3

    def test_the_labelled_set_is_big_enough_and_names_known_answers(self):
        cases = labelled()
        others = {"none", "competition", "other"}
        assert all(label in CODES | others or label.startswith("aid:") for label in cases)
        assert sum(len(cases[label]) for label in CODES) >= 60
        assert len(cases["none"]) >= 12


class TestMatcher:
    def test_top1_accuracy_on_the_labelled_set_is_at_least_90_percent(self):
        right = total = 0
        for label, questions in labelled().items():
            for question in questions:
                got = codes_of(question)
                if label in CODES:
                    right += bool(got) and got[0] == label
                else:
                    right += not got  # chat, aid and competition questions get no answer
                total += 1
        assert right / total >= 0.9

    @pytest.mark.parametrize(
        ("question", "code"),
        [
            ("老板拖欠三个月工资怎么办？", "hotline"),
            ("怎么办工会会员卡？", "member_card"),
            ("高温补贴一个月多少钱？", "high_temp"),
        ],
    )
    def test_the_domain_sample_questions_get_one_clear_answer(self, question, code):
        found = match(CATALOGUE, question)
        assert found.clear and found.benefits[0].code == code
        assert found.score >= CONFIDENT

    @pytest.mark.parametrize(
        "question",
        [
            "送外卖的能领清凉包吗？在哪领？",  # 夏送清凉, an aid programme
            "孩子今年考上盐城师范，能申请金秋助学吗？",
            "我爱人查出肺癌，大病救助要什么材料？",
            "焊工比赛还能报名吗？",
            "上周交的申请审核到哪一步了？",
        ],
    )
    def test_questions_for_other_handlers_are_not_claimed(self, question):
        found = match(CATALOGUE, question)
        assert not found.benefits and not found.catalogue

    @pytest.mark.parametrize("question", labelled()["none"])
    def test_chat_gets_no_answer(self, question):
        assert match(CATALOGUE, question) == Match()

    @pytest.mark.parametrize("question", ["工会有什么福利", "外卖骑手有什么福利？"])
    def test_a_general_question_gets_the_catalogue(self, question):
        assert match(CATALOGUE, question).catalogue

    def test_close_entries_are_offered_as_a_choice_of_at_most_three(self):
        assert set(codes_of("维权")) == {"hotline", "legal_aid"}
        alike = [
            Benefit(code=f"b{n}", title=f"服务{n}", answer="", matching={"keywords": ["驿站"]})
            for n in range(5)
        ]
        assert len(match(alike, "驿站").benefits) == 3

    def test_colloquial_words_and_typos_fold_onto_the_catalogue(self):
        assert codes_of("干了半年活老板一直拖着工资不给") == ["hotline"]
        assert codes_of("天太热了单位给不给高温费") == ["high_temp"]
        assert codes_of("疗修养怎么报名") == ["recuperation"]
        assert codes_of("高温补帖什么时候发") == ["high_temp"]  # a slip no table lists

    def test_a_stopword_inside_a_keyword_is_kept(self):
        assert codes_of("技能培训") == ["training"]  # 能 is a stopword, 技能 is not
        assert codes_of("能") == []

    def test_numbers_match_whole(self):
        assert codes_of("12351") == ["hotline"]
        assert codes_of("123456") == []

    def test_rank_orders_by_score(self):
        ranked = rank(CATALOGUE, "劳模疗养")
        assert [b.code for b, _ in ranked[:2]] == ["recuperation", "model_worker"]
        scores = [score for _, score in ranked]
        assert scores == sorted(scores, reverse=True)

    def test_an_empty_catalogue_or_text_ranks_nothing(self):
        assert rank([], "高温津贴") == []
        assert rank(CATALOGUE, "") == []
        assert match([], "工会有什么福利") == Match()

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=300))
    def test_rank_never_raises_and_scores_lie_in_0_1(self, text):
        ranked = rank(CATALOGUE, text)
        assert all(0.0 <= score <= 1.0 for _, score in ranked)
        assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
        match(CATALOGUE, text)

    @settings(max_examples=100, deadline=None)
    @given(
        st.lists(
            st.tuples(st.text(max_size=20), st.lists(st.text(max_size=20), max_size=5)),
            min_size=1,
            max_size=4,
        ),
        st.text(max_size=50),
    )
    def test_any_staff_edited_catalogue_ranks_any_text(self, entries, text):
        edited = [
            Benefit(
                code=f"b{n}",
                title=title,
                answer="",
                matching={"keywords": words, "questions": words[:1]},
            )
            for n, (title, words) in enumerate(entries)
        ]
        assert all(0.0 <= score <= 1.0 for _, score in rank(edited, text))


# --- the replies, on the seeded database ------------------------------------


class Phone:
    """One worker's messages through the benefits handlers, wired as the router will:
    a waiting numbered list takes the next message first, else ``handler`` runs."""

    def __init__(self, app, session, openid: str = "o_benefits"):
        self.app = app
        self.settings = app.extensions["unionbot"].settings
        self.session = session
        self.follower = lock_follower(session, openid)

    def state(self) -> State:
        conversation = get_conversation(self.session, self.follower.id)
        flows = self.app.extensions["unionbot"].flows
        return State(self.follower, conversation, self.session, self.settings, utcnow(), flows)

    def send(self, text: str, handler=benefits.answer_question) -> str | None:
        message = Inbound(openid=self.follower.openid, kind="text", sent_at=utcnow(), text=text)
        state = self.state()
        replies: list[Reply] | None = None
        if state.conversation is not None and state.conversation.flow == picks.FLOW:
            replies = picks.continue_pick(message, state)
        if replies is None:
            replies = handler(message, state)
        return None if replies is None else "\n".join(r.content for r in replies)

    def waiting(self) -> Conversation | None:
        return get_conversation(self.session, self.follower.id)


@pytest.fixture
def phone(app, db) -> Phone:
    return Phone(app, db)


class TestReplies:
    def test_the_catalogue_is_seeded_in_order(self, db):
        listed = benefits.benefits(db)
        assert [b.code for b in listed][:3] == ["join", "member_card", "hotline"]
        assert {b.code for b in listed} >= DOMAIN_CODES

    def test_seeding_again_adds_nothing_and_keeps_staff_edits(self, db):
        db.get(Benefit, "high_temp").answer = "已由工作人员修改"
        assert seed_benefits(db) == 0
        assert db.get(Benefit, "high_temp").answer == "已由工作人员修改"

    def test_a_clear_match_gets_the_full_answer_with_the_unions_numbers(self, phone):
        reply = phone.send("老板拖欠三个月工资怎么办？")
        assert reply.startswith("【12351职工服务热线】")
        assert "拨打12351职工服务热线（江苏省总工会热线025-12351）" in reply
        assert "对象：全县职工" in reply and "办理：直接拨打12351" in reply
        assert phone.waiting() is None
        assert "到县总工会职工服务中心" in phone.send("哪里有免费法律咨询")

    def test_every_answer_fills_its_placeholders(self, phone, db):
        for benefit in benefits.benefits(db):
            assert "{" not in benefits.describe(phone.state(), benefit), benefit.code

    def test_the_sample_question_on_allowance_answers_the_amount(self, phone):
        reply = phone.send("高温补贴一个月多少钱？")
        assert reply.startswith("【高温津贴】") and "300元" in reply

    def test_close_matches_are_numbered_and_a_number_picks_one(self, phone):
        reply = phone.send("维权")
        assert "您想问的是哪一项？" in reply
        assert "1 12351职工服务热线" in reply and "2 职工法律援助" in reply
        assert phone.waiting().flow == picks.FLOW
        assert phone.send("2").startswith("【职工法律援助】")
        assert phone.waiting() is None

    @pytest.mark.parametrize("answer", ["3", "0", "12351", "高温补贴怎么算"])
    def test_anything_but_a_listed_number_ends_the_list(self, phone, answer):
        phone.send("维权")
        message = Inbound(openid="o_benefits", kind="text", sent_at=utcnow(), text=answer)
        assert picks.continue_pick(message, phone.state()) is None
        assert phone.waiting() is None

    def test_a_new_question_after_a_list_is_answered(self, phone):
        phone.send("维权")
        assert phone.send("高温补贴怎么算").startswith("【高温津贴】")

    def test_no_match_returns_none_and_saves_nothing(self, phone):
        assert phone.send("今天天气怎么样") is None
        assert phone.send("送外卖的能领清凉包吗？在哪领？") is None
        assert phone.waiting() is None

    def test_the_benefits_menu_lists_the_catalogue_and_a_number_picks(self, phone):
        reply = phone.send("普惠", handler=benefits.benefits_menu)
        assert reply.startswith("会员普惠服务，回复数字查看：")
        assert "1 加入工会（入会）" in reply and "11 高温津贴" in reply
        assert phone.send("11").startswith("【高温津贴】")

    def test_a_general_question_gets_the_menu(self, phone):
        assert phone.send("工会有什么福利？").startswith("会员普惠服务")

    def test_an_inactive_benefit_is_neither_listed_nor_matched(self, phone, db):
        db.get(Benefit, "high_temp").active = False
        db.flush()
        assert "高温津贴" not in phone.send("普惠", handler=benefits.benefits_menu)
        reply = phone.send("高温补贴一个月多少钱？")
        assert reply is None or "【高温津贴】" not in reply

    def test_a_benefit_withdrawn_after_it_was_offered_says_so(self, phone, db):
        phone.send("普惠", handler=benefits.benefits_menu)
        db.get(Benefit, "join").active = False
        db.flush()
        assert "已经下线" in phone.send("1")

    def test_an_empty_catalogue_says_so(self, phone, db):
        for benefit in db.scalars(select(Benefit)):
            db.delete(benefit)
        db.flush()
        assert "12351" in phone.send("普惠", handler=benefits.benefits_menu)
        assert phone.send("高温补贴一个月多少钱？") is None

    def test_confident_answer_takes_benefit_questions_with_aid_words(self, phone):
        # "癌" and "住院" are aliases of 大病帮扶; these questions are about benefits.
        answer = benefits.confident_answer
        assert phone.send("两癌筛查在哪报名", handler=answer).startswith("【女职工两癌筛查】")
        reply = phone.send("住院了工会医疗互助能报多少钱", handler=answer)
        assert reply.startswith("【职工医疗互助】")

    @pytest.mark.parametrize(
        "question",
        ["我爱人查出肺癌，大病救助要什么材料？", "送外卖的能领清凉包吗？", "维权"],
    )
    def test_confident_answer_leaves_the_rest_alone(self, phone, question):
        assert phone.send(question, handler=benefits.confident_answer) is None


class TestThroughTheWebhook:
    """As routed for a worker: keywords, the menu, and the brief's sample questions."""

    @pytest.mark.parametrize(
        ("question", "expected"),
        [
            ("老板拖欠三个月工资怎么办", "12351"),
            ("怎么办工会会员卡？", "会员卡"),
            ("高温补贴一个月多少钱", "300元"),
            ("送外卖的能领清凉包吗？在哪领？", "【夏送清凉】"),
            ("我想找人工客服", "已记录您的人工服务请求"),
            ("女职工两癌筛查什么时候", "筛查"),
        ],
    )
    def test_sample_questions(self, wechat, question, expected):
        assert expected in wechat.send_text("o_ask", question).text

    def test_the_menu_number_and_click_list_the_catalogue_and_a_number_picks(self, wechat):
        listing = wechat.send_text("o_ask", "3").text
        assert listing == wechat.send_event("o_ask2", "CLICK", "BENEFITS").text
        number = next(line.split(" ")[0] for line in listing.splitlines() if "职工书屋" in line)
        assert "职工书屋" in wechat.send_text("o_ask", number).text

    def test_no_match_offers_the_menu_hotline_and_staff(self, wechat):
        reply = wechat.send_text("o_ask", "今天天气怎么样").text
        assert "没听懂" in reply and "12351" in reply and "人工" in reply
