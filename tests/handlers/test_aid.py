"""Aid applications driven through the signed webhook, as a worker's phone would."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from models import (
    AidApplication,
    AidProgramme,
    ApplicationEvent,
    ConsentRecord,
    Conversation,
    Follower,
    HandoffRequest,
    MediaFile,
    OutboxMessage,
)
from models.aid import NEEDS_INFO, UNDER_REVIEW, transition
from models.status_notices import notify_status
from tests.conftest import simulator_for
from tests.helpers import (
    BAD_CHECK_DIGIT,
    LI,
    REFERENCE,
    RIDER,
    SCRIPTS,
    WANG,
    Worker,
    apply,
    common,
    open_all_windows,
    valid_id,
)


@pytest.fixture
def worker(wechat) -> Worker:
    return Worker(wechat)


@pytest.fixture
def opened(db):
    open_all_windows(db)


def raw_rows(db, sql: str) -> str:
    return " ".join(str(value) for row in db.execute(text(sql)) for value in row)


class TestEveryProgramme:
    @pytest.mark.parametrize("code", list(SCRIPTS))
    def test_from_first_message_to_reference_number(self, worker, db, opened, code):
        reply = apply(worker, code)
        assert "提交成功" in reply
        reference = REFERENCE.search(reply).group()
        row = db.scalars(select(AidApplication)).one()
        assert (row.reference, row.programme_code, row.status) == (reference, code, "submitted")
        assert row.answers["phone"] in ("13812345678", "13912345678")
        assert [e.to_status for e in row.events] == ["submitted"]
        assert db.scalar(select(Conversation).where(Conversation.flow == "aid")) is None

    def test_summary_and_replies_mask_id_phone_and_card(self, worker, opened):
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"])
        summary = worker.say("跳过")
        assert "320***********0022" in summary and WANG not in summary
        assert "138****5678" in summary and "13812345678" not in summary
        assert "**** 0123" in summary and "6222021234567840123" not in summary

    def test_hardship_grade_follows_the_configured_dibao(self, make_app, db):
        app = make_app(aid={"dibao_monthly_yuan": 400})
        open_all_windows(db)
        reply = apply(Worker(simulator_for(app)), "hardship")
        # (2000 - 300) / 3 = 567 yuan a head: above 400, below 2 × 400.
        assert "初步评估：相对困难（仅供参考" in reply
        assert db.scalars(select(AidApplication)).one().grade == "相对困难"

    def test_reference_numbers_are_sequential_per_year(self, wechat, opened):
        first = apply(Worker(wechat, "o_a"), "summer")
        second = apply(Worker(wechat, "o_b"), "spring_jobs")
        year = dt.date.today().year
        assert f"SY-{year}-000001" in first and f"SY-{year}-000002" in second


class TestControlWords:
    def start(self, worker, upto: int) -> None:
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"][:upto])

    @pytest.mark.parametrize("upto", [1, 3, 9])
    def test_cancel_asks_first_then_deletes_the_draft(self, worker, db, upto):
        self.start(worker, upto)
        assert "确定要取消吗" in worker.say("取消")
        assert "已取消" in worker.say("是")
        assert db.scalars(select(Conversation)).all() == []
        assert "没听懂" in worker.say("王秀梅")  # no form is waiting any more

    def test_answering_no_to_cancel_keeps_everything(self, worker):
        self.start(worker, 4)
        worker.say("取消")
        assert "请输入您的工作单位全称" in worker.say("否")
        assert "您是工会会员吗" in worker.say("射阳港风电装备公司")

    @pytest.mark.parametrize("upto", [2, 5, 8])
    def test_back_shows_the_previous_question_with_the_old_answer(self, worker, upto):
        self.start(worker, upto)
        previous = SCRIPTS["hardship"][upto - 1]
        reply = worker.say("上一步")
        assert "原来填的是" in reply
        if previous not in (WANG, "13812345678"):
            assert previous in reply

    def test_back_from_the_summary_returns_to_the_proofs(self, worker):
        self.start(worker, len(SCRIPTS["hardship"]))
        worker.say("跳过")
        assert "请拍照发送" in worker.say("上一步")

    def test_restart_clears_answers_after_confirmation(self, worker, db):
        self.start(worker, 5)
        assert "确定要清空重填吗" in worker.say("重填")
        reply = worker.say("是")
        assert "已清空" in reply and "个人信息保护告知" in reply
        assert db.scalars(select(Conversation)).one().data["answers"] == {}

    @pytest.mark.parametrize("upto", [0, 6])
    def test_staff_handoff_is_recorded_and_the_form_continues(self, worker, db, upto):
        self.start(worker, upto)
        reply = worker.say("人工")
        assert "12351" in reply and "回复“继续”接着填" in reply
        request = db.scalars(select(HandoffRequest)).one()
        assert "困难职工帮扶申请" in request.topic
        assert "【困难职工帮扶申请" in worker.say("继续")

    def test_edit_one_line_from_the_summary(self, worker, db, opened):
        self.start(worker, len(SCRIPTS["hardship"]))
        worker.say("跳过")
        assert "请输入联系手机号" in worker.say("修改 3")
        summary = worker.say("13900001111")
        assert summary.startswith("请核对") and "139****1111" in summary
        assert "没有第40项" in worker.say("修改 40")
        worker.say("确认")
        assert db.scalars(select(AidApplication)).one().answers["phone"] == "13900001111"

    def test_edit_that_opens_a_conditional_question_asks_it(self, worker):
        worker.say("帮扶")
        worker.say("1")
        worker.run([*common()[:5], "否", *SCRIPTS["hardship"][7:]])
        summary = worker.say("跳过")
        assert "所在工会" not in summary
        worker.say("修改 5")  # 工会会员: 否 → 是
        assert "基层工会名称" in worker.say("是")
        assert "所在工会：开发区工会" in worker.say("开发区工会")


class TestValidation:
    def at(self, worker, step: int) -> None:
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"][:step])

    @pytest.mark.parametrize(
        ("step", "typed", "reason"),
        [
            (2, BAD_CHECK_DIGIT, "校验位不对"),
            (2, "320924198502300022", "出生日期不存在"),
            (2, "32092419850312002", "应为18位"),
            (3, "12812345678", "手机号应为1开头的11位数字"),
            (3, "1381234567", "手机号应为1开头的11位数字"),
            (7, "0", "请填写1到20之间的整数"),
            (8, "-500", "不能是负数"),
            (8, "很多", "请只填写数字"),
            (10, "7", "请回复选项前的数字"),
            (12, "困" * 301, "内容太长了（301字）"),
            (1, "王", "请填写真实姓名"),
            (1, "同意", "“同意”不像是姓名"),
            (5, "也许", "请回复“是”或“否”"),
            (0, "再看看", "请回复“同意”或“不同意”"),
        ],
    )
    def test_bad_answer_gets_the_reason_and_the_same_question(self, worker, step, typed, reason):
        self.at(worker, step)
        question = worker.last.split("】\n")[-1].split("\n")[0]
        reply = worker.say(typed)
        assert reason in reply
        assert question in reply

    def test_phone_keyboard_input_is_normalised(self, worker, db):
        self.at(worker, 2)
        assert "手机号" in worker.say(" 3209 2419 8503 1200 22 ")
        assert "工作单位" in worker.say("１３８ １２３４ ５６７８")
        answers = db.scalars(select(Conversation)).one().data["answers"]
        assert (answers["id_number"], answers["phone"]) == (WANG, "13812345678")

    def test_voice_answers_with_closing_punctuation_are_taken(self, wechat, db):
        def voice(said: str) -> str:
            message = wechat.xml(
                "o_voice",
                "voice",
                MediaId="V1",
                Format="amr",
                Recognition=said,
                MsgId=wechat.next_msg_id(),
            )
            return wechat.deliver(message).text

        voice("我想申请大病帮扶。")
        assert "请输入您的姓名" in voice("同意。")
        assert "身份证号" in voice("李梅。")
        assert "手机号" in voice(f"{LI}。")
        assert "工作单位" in voice("138 1234 5678。")
        answers = db.scalars(select(Conversation)).one().data["answers"]
        assert (answers["name"], answers["id_number"], answers["phone"]) == (
            "李梅",
            LI,
            "13812345678",
        )

    def test_free_text_keeps_chinese_punctuation(self, worker, db):
        self.at(worker, 12)
        worker.say("  爱人患病，孩子上学（高三）。 ")
        answers = db.scalars(select(Conversation)).one().data["answers"]
        assert answers["reason"] == "爱人患病，孩子上学（高三）。"

    def test_lower_case_x_is_accepted(self, worker, db):
        self.at(worker, 2)
        worker.say("11010519491231002x")
        assert db.scalars(select(Conversation)).one().data["answers"]["id_number"].endswith("X")

    def test_photo_before_the_proof_step_is_not_taken(self, worker, db):
        self.at(worker, 3)
        assert "现在还不需要照片" in worker.photo("early")
        assert db.scalars(select(OutboxMessage)).all() == []


class TestRules:
    def test_closed_window_says_when_it_opens(self, worker, db):
        db.execute(
            update(AidProgramme)
            .where(AidProgramme.code == "jinqiu")
            .values(opens="01-01", closes="01-02")
        )
        db.commit()
        worker.say("帮扶")
        reply = worker.say("3")
        # The next opening leads, then the window, what is open now and the office.
        assert reply.startswith("金秋助学下次")
        assert "年1月1日开始申报（每年1月1日至1月2日），现在不在申报期" in reply
        assert "现在可以申请：困难职工帮扶" in reply and "12351" in reply
        assert db.scalars(select(Conversation).where(Conversation.flow == "aid")).all() == []

    def test_wrapping_window_is_open_across_the_new_year(self):
        from models.aid import window_on

        assert window_on("12-15", "02-28", dt.date(2027, 1, 20)).open
        assert window_on("12-15", "02-28", dt.date(2027, 1, 20)).season == 2026
        assert not window_on("12-15", "02-28", dt.date(2027, 3, 1)).open

    def test_same_person_cannot_apply_twice_in_a_year(self, wechat, opened):
        apply(Worker(wechat, "o_first"), "hardship")
        again = Worker(wechat, "o_second")
        again.say("帮扶")
        again.say("1")
        reply = again.run(SCRIPTS["hardship"][:3])
        assert "该身份证号今年已经申请过困难职工帮扶" in reply
        assert "SY-" not in reply  # someone else's reference is not shown
        assert "请输入您的身份证号码" in reply

    def test_own_duplicate_names_the_open_application(self, worker, opened):
        reference = REFERENCE.search(apply(worker, "hardship")).group()
        worker.say("帮扶")
        worker.say("1")
        assert reference in worker.run(SCRIPTS["hardship"][:3])

    def test_withdrawn_application_frees_the_person_to_apply_again(self, worker, opened):
        reference = REFERENCE.search(apply(worker, "summer")).group()
        worker.say(f"撤回 {reference}")
        worker.say("是")
        assert "提交成功" in apply(worker, "summer")

    def test_one_jinqiu_award_per_child_per_year(self, wechat, opened):
        apply(Worker(wechat, "o_mother"), "jinqiu")
        father = Worker(wechat, "o_father")
        father.say("帮扶")
        father.say("3")
        script = [*common("320924199007180039", "王军"), *SCRIPTS["jinqiu"][7:10]]
        assert "这名学生今年已经申请过金秋助学" in father.run(script)

    def test_illness_must_be_diagnosed_this_year(self, worker, opened):
        worker.say("帮扶")
        worker.say("2")
        worker.run(SCRIPTS["illness"][:11])
        assert "受理当年确诊的疾病" in worker.say("2019-05-01")

    def test_refusing_consent_collects_nothing_and_says_how_else(self, worker, db):
        worker.say("帮扶")
        assert "个人信息保护告知" in worker.say("1")
        reply = worker.say("不同意")
        assert "不会收集您的信息" in reply and "12351" in reply
        assert db.scalars(select(Conversation)).all() == []
        consent = db.scalars(select(ConsentRecord)).one()
        assert (consent.kind, consent.granted) == ("privacy", False)

    def test_required_photos_must_be_sent(self, worker, opened):
        worker.say("帮扶")
        worker.say("2")
        worker.run(SCRIPTS["illness"])
        assert "还没有收到照片" in worker.say("完成")
        reply = worker.say("跳过")
        assert "还没有收到照片" in reply and "为您保留30天" in reply


def cap_station(db, station: str, limit: int) -> None:
    """What staff set for a hot week: ``station`` hands out only ``limit`` packs."""
    summer = db.get(AidProgramme, "summer")
    quota = summer.definition["quota"]
    limits = {**quota["limits"], station: limit}
    summer.definition = {**summer.definition, "quota": {**quota, "limits": limits}}
    db.commit()


HEDE = "合德镇户外劳动者驿站"  # the station SCRIPTS["summer"] picks (choice 2)


class TestStationQuota:
    def summer_until_station(self, worker: Worker, n: int) -> str:
        worker.say("帮扶")
        worker.say("5")
        return worker.run(["同意", "周平", valid_id(n), "13912345678", "美团配送站", "2"])

    def test_a_full_station_is_refused_when_chosen_and_others_offered(self, wechat, db, opened):
        cap_station(db, HEDE, 1)
        assert "提交成功" in apply(Worker(wechat, "o_first"), "summer")
        late = Worker(wechat, "o_late")
        self.summer_until_station(late, 1)
        reply = late.say("2")
        assert f"{HEDE}本季已登记满了" in reply
        assert "县总工会职工服务中心（剩300份）" in reply and f"{HEDE}（" not in reply
        assert "您想在哪里领取清凉包" in reply  # asked again
        late.say("1")
        late.photo("badge_late")
        late.say("完成")
        assert "提交成功" in late.say("确认")
        db.rollback()
        stations = sorted(db.scalars(select(AidApplication.allotment)))
        assert stations == ["县总工会职工服务中心", HEDE]

    def test_a_withdrawn_registration_frees_its_pack(self, wechat, db, opened):
        cap_station(db, HEDE, 1)
        first = Worker(wechat, "o_first")
        reference = REFERENCE.search(apply(first, "summer")).group()
        first.say(f"撤回 {reference}")
        first.say("是")
        late = Worker(wechat, "o_late")
        self.summer_until_station(late, 1)
        assert "已登记满了" not in late.say("2")

    def test_the_last_packs_go_to_exactly_as_many_as_there_are(self, app, live_wechat, db, opened):
        cap_station(db, HEDE, 2)
        workers = [Worker(live_wechat, f"o_rider{n}") for n in range(5)]
        for n, worker in enumerate(workers):
            self.summer_until_station(worker, n)
            worker.say("2")
            worker.photo(f"badge_{n}")
            assert worker.say("完成").startswith("请核对您填写的信息")
        with ThreadPoolExecutor(5) as pool:
            replies = list(pool.map(lambda w: w.say("确认"), workers))
        assert sum("提交成功" in r for r in replies) == 2
        refused = [r for r in replies if "提交成功" not in r]
        assert all(f"{HEDE}本季已登记满了" in r and "回复“修改 数字”换一个" in r for r in refused)
        db.rollback()
        assert list(db.scalars(select(AidApplication.allotment))) == [HEDE, HEDE]
        assert len(db.scalars(select(Conversation)).all()) == 3  # the refused keep their drafts


class TestProofs:
    def test_each_photo_is_counted_queued_for_download_and_kept(self, worker, db):
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"])
        assert "已收到第1张" in worker.photo("MEDIA_A")
        assert "已收到第2张" in worker.photo("MEDIA_B")
        assert "已经收到了" in worker.photo("MEDIA_A")
        assert "照片材料：2张" in worker.say("完成")
        worker.say("确认")
        downloads = db.scalars(select(OutboxMessage).where(OutboxMessage.channel == "media")).all()
        assert sorted(row.payload["media_id"] for row in downloads) == ["MEDIA_A", "MEDIA_B"]
        application = db.scalars(select(AidApplication)).one()
        assert [p.media_id for p in application.proofs] == ["MEDIA_A", "MEDIA_B"]

    def test_downloaded_proof_lands_in_the_media_directory(self, worker, db, drainer, fake, app):
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"])
        worker.photo("PROOF_1")
        drainer.drain_until_empty()
        media = db.scalars(select(MediaFile)).one()
        stored = Path(app.extensions["unionbot"].settings.outbox.media_dir) / media.path
        assert media.media_id == "PROOF_1" and stored.read_bytes().startswith(b"\x89PNG")
        assert [c["params"].get("media_id") for c in fake.calls_to("media/get")] == ["PROOF_1"]


class TestStatus:
    def test_my_applications_lists_status_and_details_only_to_the_owner(self, wechat, opened):
        owner = Worker(wechat, "o_owner")
        reference = REFERENCE.search(apply(owner, "hardship")).group()
        listing = owner.say("我的申请")
        assert reference in listing and "已提交，待审核" in listing
        details = owner.say(f"查询 {reference}")
        assert "办理记录" in details and "困难职工帮扶" in details
        assert WANG not in details
        stranger = Worker(wechat, "o_stranger")
        assert "没有找到编号为" in stranger.say(f"查询 {reference}")
        assert "没有找到编号为" in stranger.say(f"撤回 {reference}")

    def test_withdraw_asks_first_and_records_the_transition(self, worker, db, opened):
        reference = REFERENCE.search(apply(worker, "hardship")).group()
        assert "确定要撤回申请" in worker.say(f"撤回{reference.lower()}")
        assert "保留" in worker.say("否")
        assert db.scalars(select(AidApplication)).one().status == "submitted"
        db.rollback()
        worker.say(f"撤回 {reference}")
        assert "已撤回" in worker.say("是")
        db.rollback()  # end the test's read snapshot to see the app's writes
        application = db.scalars(select(AidApplication)).one()
        assert application.status == "withdrawn"
        event = application.events[-1]
        assert (event.from_status, event.to_status, event.actor) == (
            "submitted",
            "withdrawn",
            "worker",
        )
        assert "不能撤回" in worker.say(f"撤回 {reference}")

    def test_staff_asks_for_more_and_the_worker_adds_it_in_the_chat(self, worker, db, opened):
        reference = REFERENCE.search(apply(worker, "hardship")).group()
        application = db.scalars(select(AidApplication)).one()
        event = transition(db, application, NEEDS_INFO, "staff:reviewer", "请补充低保证照片")
        notify_status(db, application, event, "12351")
        db.commit()
        notice = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "aid_status")).one()
        assert reference in notice.payload["text"] and "请补充低保证照片" in notice.payload["text"]

        reply = worker.say("你好")  # any next message offers the way to add it
        assert f"回复“补充 {reference}”" in reply
        assert "请补充低保证照片" in worker.say(f"补充 {reference}")
        assert "请拍照发送" in worker.say("低保证在附件")
        assert "已收到第1张" in worker.photo("DIBAO")
        worker.say("完成")
        assert "重新进入审核" in worker.say("确认")
        db.rollback()
        application = db.scalars(select(AidApplication)).one()
        assert application.status == UNDER_REVIEW
        assert [p.media_id for p in application.proofs][-1] == "DIBAO"
        assert application.events[-1].comment == "低保证在附件"
        assert "需要补充" not in worker.say("你好")


class TestIntent:
    @pytest.mark.parametrize(
        ("question", "expected"),
        [
            ("我家里困难，工会能帮什么？", "【困难职工帮扶】"),
            ("孩子今年考上盐城师范，能申请金秋助学吗？", "【金秋助学】"),
            ("我爱人查出肺癌，大病救助要什么材料？", "需要材料（拍照发送）：诊断证明"),
            ("送外卖的能领清凉包吗？在哪领？", "【夏送清凉】"),
            ("上周交的申请审核到哪一步了？", "您还没有提交过帮扶申请"),
            ("我想申请帮扶", "可以在线申请的帮扶项目"),
            ("帮扶", "可以在线申请的帮扶项目"),
        ],
    )
    def test_real_phrasing_reaches_the_right_place(self, worker, question, expected):
        assert expected in worker.say(question)

    def test_a_question_offers_to_start_and_申请_starts(self, worker):
        assert "回复“申请”开始填写" in worker.say("大病救助要什么材料")
        started = worker.say("申请")
        assert "【大病帮扶申请 1/" in started
        assert "需要材料" not in started  # the conditions were just shown, not again

    def test_a_request_starts_the_form(self, worker):
        assert "【大病帮扶申请 1/" in worker.say("我要申请大病帮扶")


class TestDurability:
    def test_idle_form_is_paused_then_continued(self, worker, db):
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"][:3])
        db.execute(
            update(Conversation).values(
                updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
            )
        )
        db.commit()
        # A phone number at the phone question can only be the answer: taken at once.
        assert "工作单位" in worker.say("13812345678")
        db.execute(
            update(Conversation).values(
                updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
            )
        )
        db.commit()
        # Anything else is answered, not swallowed, and the form is offered.
        reply = worker.say("帮助")
        assert reply.startswith("回复数字或关键词")
        assert reply.endswith("您有一份未完成的困难职工帮扶申请，回复“继续”接着填，回复“取消”放弃。")  # noqa: E501
        assert "工作单位" in worker.say("继续")

    def test_a_wrong_answer_counts_as_activity(self, worker, db):
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"][:3])
        db.execute(
            update(Conversation).values(
                updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=29)
            )
        )
        db.commit()
        assert "手机号应为" in worker.say("12345")  # active again, though nothing was saved
        db.rollback()
        touched = db.scalars(select(Conversation)).one().updated_at
        assert touched > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.execute(update(Conversation).values(updated_at=touched - dt.timedelta(minutes=2)))
        db.commit()
        assert "工作单位" in worker.say("13812345678")  # 2 minutes after the wrong answer

    def test_paused_form_waits_while_the_worker_asks_something_else(self, worker, db):
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"][:3])
        db.execute(
            update(Conversation).values(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )
        db.commit()
        worker.say("你好")
        reply = worker.say("我的申请")
        assert "您还没有提交过帮扶申请" in reply and "回复“继续”接着填" in reply
        assert "请输入联系手机号" in worker.say("继续")

    def test_paused_form_can_be_cancelled(self, worker, db):
        worker.say("帮扶")
        worker.say("1")
        worker.say("同意")
        db.execute(
            update(Conversation).values(
                updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=45)
            )
        )
        db.commit()
        worker.say("王秀梅")
        assert "已取消" in worker.say("取消")
        assert db.scalars(select(Conversation)).all() == []

    def test_abandoned_drafts_are_purged_after_retention(self, worker, db, app):
        from bot import jobs

        worker.say("帮扶")
        worker.say("1")
        worker.say("同意")
        assert jobs.purge_abandoned_drafts(app.extensions["unionbot"]) == 0
        db.execute(
            update(Conversation).values(updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
        )
        db.commit()
        assert jobs.purge_abandoned_drafts(app.extensions["unionbot"]) == 1

    def test_restarting_the_app_mid_form_resumes_it(self, make_app, db):
        first = Worker(simulator_for(make_app()))
        first.say("帮扶")
        first.say("1")
        first.run(SCRIPTS["hardship"][:4])
        restarted = Worker(simulator_for(make_app()))
        assert "您是工会会员吗" in restarted.say("射阳港风电装备公司")

    def test_concurrent_messages_from_one_worker_advance_the_form_one_at_a_time(
        self, app, live_wechat, db
    ):
        worker = Worker(live_wechat)
        worker.say("帮扶")
        worker.say("1")
        worker.run(SCRIPTS["hardship"][:4])  # now asked for the employer (free text)
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(worker.say, ["甲公司", "乙公司"]))
        # One answer was taken as the employer; the other met the yes/no question.
        assert sorted("您是工会会员吗" in r and "请回复“是”或“否”" not in r for r in replies) == [
            False,
            True,
        ]
        draft = db.scalars(select(Conversation)).one().data
        assert draft["answers"]["employer"] in ("甲公司", "乙公司")
        assert draft["step"] == "union_member"

    def test_concurrent_submissions_get_distinct_sequential_references(self, app, live_wechat, db):
        open_all_windows(db)
        workers = [Worker(live_wechat, f"o_rider{n}") for n in range(6)]
        for n, worker in enumerate(workers):
            worker.say("帮扶")
            worker.say("6")
            worker.run(["同意", "周平", valid_id(n), "13912345678", "焊工", "焊接", "射阳"])
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda w: w.say("确认"), workers))
        references = sorted(REFERENCE.search(r).group() for r in replies)
        year = dt.date.today().year
        assert references == [f"SY-{year}-{n:06d}" for n in range(1, 7)]


class TestPrivacyAtRest:
    def test_no_plaintext_personal_data_in_the_raw_rows(self, worker, db, opened):
        worker.say("帮扶")
        worker.say("2")
        worker.run(SCRIPTS["illness"][:8])  # draft holds the diagnosis
        drafts = raw_rows(db, "SELECT data FROM conversations")
        for secret in (LI, "13812345678", "肺癌", "李梅"):
            assert secret not in drafts
        worker.run(SCRIPTS["illness"][8:])
        worker.photo("P1")
        worker.say("完成")
        worker.say("确认")
        db.rollback()
        # Every column but the deliveries' MsgIds (also in their keys), which are
        # clock-based numbers: one read "…30000…" now and then, failing the income check.
        stored = " ".join(
            raw_rows(db, f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            for table in ("aid_applications", "application_events")
        ) + raw_rows(
            db,
            "SELECT openid, msg_type, event, content, payload, status, replies, error"
            " FROM deliveries",
        )
        for secret in (LI, "13812345678", "肺癌", "李梅", "6222021234567840123", "30000"):
            assert secret not in stored
        application = db.scalars(select(AidApplication)).one()
        assert application.answers["diagnosis"] == "肺癌"  # the app still reads it

    def test_follower_rows_link_applications_without_exposing_them(self, worker, db, opened):
        apply(worker, "summer")
        follower = db.scalars(select(Follower)).one()
        application = db.scalars(select(AidApplication)).one()
        assert application.follower_id == follower.id
        assert len(application.id_hash) == 64 and RIDER not in application.id_hash
        assert db.scalar(select(ApplicationEvent.actor)) == "worker"
