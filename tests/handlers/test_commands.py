"""Commands act on the obvious target: "取消报名", "撤回", "补充", "查进度" without a number,
"比赛啥时候" after signing up, "竞赛结果出来了吗", thanks, and a photo outside a form
while staff wait for material (through the signed webhook)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from models import (
    AidApplication,
    ApplicationProof,
    Competition,
    CompetitionEntry,
    Conversation,
    OutboxMessage,
)
from models.aid import NEEDS_INFO, transition
from tests.helpers import REFERENCE, Worker, apply, open_all_windows, valid_id


@pytest.fixture
def worker(wechat, db) -> Worker:
    open_all_windows(db)
    db.execute(update(Competition).values(opens=None, closes=None, event_on="12-28"))
    db.commit()
    return Worker(wechat)


def sign_up(worker: Worker, contest: str, id_number: str) -> str:
    """Sign up for ``contest`` (its alias) with the trade contests' answers."""
    worker.say(contest)
    worker.say("报名")
    worker.run(["同意", "王秀梅", id_number, "13812345678", "风电装备公司", "叉车司机", "5", "无"])
    worker.say("跳过")
    return worker.say("确认")


def references(worker: Worker, *codes: str) -> list[str]:
    return [REFERENCE.search(apply(worker, code)).group() for code in codes]


def ask_for_more(db, reference: str, comment: str = "请补充低保证照片") -> None:
    application = db.scalars(
        select(AidApplication).where(AidApplication.reference == reference)
    ).one()
    transition(db, application, NEEDS_INFO, "staff:reviewer", comment)
    db.commit()


def status(db, reference: str) -> str:
    db.rollback()
    return db.scalars(
        select(AidApplication.status).where(AidApplication.reference == reference)
    ).one()


class TestCancelSignUp:
    def test_the_only_sign_up_is_cancelled_after_yes(self, worker, db):
        assert "报名成功" in sign_up(worker, "叉车", valid_id(1))
        assert "确定要取消“冬季岗位练兵·叉车司机技能比武”的报名吗" in worker.say("取消报名")
        assert "已取消" in worker.say("是")
        db.rollback()
        assert db.scalars(select(CompetitionEntry.status)).one() == "cancelled"

    def test_in_words_for_the_only_one(self, worker):
        sign_up(worker, "叉车", valid_id(1))
        assert "确定要取消" in worker.say("报的那个比赛不去了")

    def test_several_are_listed_and_a_number_picks(self, worker):
        sign_up(worker, "叉车", valid_id(1))
        sign_up(worker, "养老护理", valid_id(2))
        listing = worker.say("取消报名")
        assert "要取消哪一项？" in listing and "叉车" in listing and "养老护理" in listing
        assert "确定要取消“养老护理员技能竞赛”" in worker.say("1")

    def test_nothing_to_cancel_says_so(self, worker):
        assert "没有报名竞赛" in worker.say("取消报名")


class TestWithdrawSupplementProgress:
    def test_withdraw_without_a_number_takes_the_only_open_application(self, worker, db):
        [reference] = references(worker, "summer")
        assert f"确定要撤回申请 {reference}" in worker.say("我想撤回申请")
        assert "已撤回" in worker.say("是")
        assert status(db, reference) == "withdrawn"

    def test_withdraw_with_several_lists_them(self, worker, db):
        first, second = references(worker, "summer", "spring_jobs")
        listing = worker.say("撤回")
        assert "要撤回哪一份？" in listing and first in listing and second in listing
        number = next(line[0] for line in listing.splitlines() if second in line)
        assert f"确定要撤回申请 {second}" in worker.say(number)

    def test_progress_of_the_only_application_shows_it(self, worker):
        [reference] = references(worker, "summer")
        reply = worker.say("我那个申请到哪了")
        assert f"申请编号：{reference}" in reply and "夏送清凉" in reply

    def test_progress_with_several_lists_them_numbered(self, worker):
        first, second = references(worker, "summer", "spring_jobs")
        listing = worker.say("查进度")
        assert "要查看哪一份？" in listing and first in listing and second in listing
        assert f"申请编号：{first}" in worker.say("2")  # newest first

    def test_supplement_without_a_number_opens_the_one_waiting(self, worker, db):
        [reference] = references(worker, "summer")
        ask_for_more(db, reference)
        assert "请补充低保证照片" in worker.say("补充")


class TestPhotoOutsideAForm:
    def test_is_offered_to_the_application_waiting_for_material(self, worker, db):
        [reference] = references(worker, "summer")
        ask_for_more(db, reference)
        question = worker.photo("dibao_photo")
        assert question == (
            f"这张照片是要补充给申请 {reference}（夏送清凉）的吗？回复“是”补交，回复“否”不交。"
        )
        assert "收到第1张" in worker.say("是")
        db.rollback()
        assert db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "proof")).all()
        assert worker.say("完成").startswith("请核对")
        assert "重新进入审核" in worker.say("确认")
        assert status(db, reference) == "under_review"
        proofs = db.scalars(select(ApplicationProof.media_id)).all()
        assert "dibao_photo" in proofs

    def test_no_drops_nothing_but_the_offer(self, worker, db):
        [reference] = references(worker, "summer")
        ask_for_more(db, reference)
        worker.photo("dibao_photo")
        assert f"补充 {reference}" in worker.say("否")
        assert status(db, reference) == "needs_info"

    def test_with_two_waiting_the_worker_picks_one(self, worker, db):
        first, second = references(worker, "summer", "spring_jobs")
        ask_for_more(db, first)
        ask_for_more(db, second, "请补充工牌照片")
        listing = worker.photo("badge")
        assert "补充给哪份申请" in listing and first in listing and second in listing
        assert "收到第1张" in worker.say("1")
        db.rollback()
        draft = db.scalars(select(Conversation).where(Conversation.flow == "aid_supplement")).one()
        assert draft.data["proofs"][0]["media_id"] == "badge"

    def test_without_anything_waiting_says_where_photos_go(self, worker):
        assert worker.photo("random").startswith("收到。照片等材料请在申请过程中")


class TestContestDayAndResults:
    def test_when_and_where_come_from_the_workers_own_entry(self, worker):
        sign_up(worker, "叉车", valid_id(1))
        for question in ("比赛啥时候", "在哪比"):
            reply = worker.say(question)
            assert "12月28日" in reply and "县职工技能实训中心" in reply
            assert "正在报名的竞赛" not in reply

    def test_without_a_sign_up_the_contests_are_listed(self, worker):
        assert "正在报名的竞赛" in worker.say("比赛啥时候")

    def test_are_the_results_out(self, worker, db):
        assert "还没有公布" in worker.say("竞赛结果出来了吗")
        db.execute(
            update(Competition)
            .where(Competition.code == "welder")
            .values(results="一等奖：张伟（射阳港风电）")
        )
        db.commit()
        assert "一等奖：张伟" in worker.say("比赛成绩出来没有")


class TestThanks:
    @pytest.mark.parametrize("said", ["谢谢", "好的", "辛苦了", "好的 谢谢", "谢谢啊！", "知道了"])
    def test_gets_a_short_warm_reply(self, worker, said):
        reply = worker.say(said)
        assert "没听懂" not in reply and len(reply) <= 40

    def test_after_submitting(self, worker):
        apply(worker, "summer")
        assert worker.say("谢谢").startswith("不客气")

