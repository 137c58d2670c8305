"""Data files reaching a running install: what a sync updates, what it keeps for staff, and
what a privacy-notice change means for workers in the middle of a form.

Every test edits a copy of ``models/data`` and syncs from it; the real files stay as they are.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from models import AidProgramme, ConsentRecord, Follower
from models.benefit import Benefit
from models.competition import Competition
from models.consent import PRIVACY
from models.seed import DATA, report_lines, seed_catalogue
from tests.conftest import simulator_for
from tests.helpers import SCRIPTS, Worker, open_all_windows

NOTICE_V1 = 'notice_version = "2026-11"'
NOTICE_V2 = 'notice_version = "2027-01"'
PURPOSE_V1 = "用途：仅用于审核和发放帮扶。"
PURPOSE_V2 = "用途：仅用于审核和发放帮扶，不用于其他任何目的。"
STAFF_PROGRAMME_FIELDS = {"opens", "closes", "summary"}


@pytest.fixture
def data_dir(tmp_path) -> Path:
    copied = tmp_path / "data"
    shutil.copytree(DATA, copied)
    return copied


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` (found exactly ``count`` times) in a data file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, (path.name, old, text.count(old))
    path.write_text(text.replace(old, new), encoding="utf-8")


def sync(db, data_dir: Path) -> list[str]:
    """Sync as ``unionbot sync-data`` does, and return its report lines."""
    lines = report_lines(seed_catalogue(db, data_dir))
    db.commit()
    db.expire_all()
    return lines


def new_notice(data_dir: Path) -> None:
    edit(data_dir / "aid_programmes.toml", NOTICE_V1, NOTICE_V2)
    edit(data_dir / "aid_programmes.toml", PURPOSE_V1, PURPOSE_V2)


def set_limit(db, station: str, limit: int) -> None:
    """What the admin's programme page does: a new definition with the changed limit."""
    summer = db.get(AidProgramme, "summer")
    quota = summer.definition["quota"]
    limits = {**quota["limits"], station: limit}
    summer.definition = {**summer.definition, "quota": {**quota, "limits": limits}}
    db.commit()


class TestFileOwnedValues:
    def test_the_shipped_files_change_nothing_after_seeding(self, db, data_dir):
        assert sync(db, data_dir) == []
        jinqiu = db.get(AidProgramme, "jinqiu")
        assert jinqiu.synced["opens"] == "07-01"
        assert jinqiu.synced["definition"]["notice_version"] == "2026-11"

    def test_a_new_prompt_and_notice_reach_every_form_once(self, db, data_dir):
        edit(data_dir / "fields.toml", "请输入您的姓名（与身份证一致）。", "请输入您的真实姓名。")
        new_notice(data_dir)
        lines = sync(db, data_dir)
        assert "aid jinqiu: fields, privacy_notice, notice_version updated" in lines
        assert "competition forklift: fields updated" in lines
        assert len(lines) == 6 + 10  # every programme and competition asks the name
        jinqiu = db.get(AidProgramme, "jinqiu").definition
        assert jinqiu["notice_version"] == "2027-01"
        assert PURPOSE_V2 in jinqiu["privacy_notice"]
        name = next(f for f in jinqiu["fields"] if f["key"] == "name")
        assert name["prompt"] == "请输入您的真实姓名。"
        assert sync(db, data_dir) == []

    def test_a_window_removed_from_the_file_opens_all_year(self, db, data_dir):
        edit(data_dir / "aid_programmes.toml", 'opens = "07-01"\ncloses = "08-25"\n', "")
        assert sync(db, data_dir) == ["aid jinqiu: opens, closes updated"]
        jinqiu = db.get(AidProgramme, "jinqiu")
        assert (jinqiu.opens, jinqiu.closes) == (None, None)

    def test_new_rows_are_added_and_rows_only_in_the_database_are_left_alone(self, db, data_dir):
        db.add(AidProgramme(code="pilot", name="试点帮扶", summary="县里试点", position=9))
        db.commit()
        extra = (data_dir / "aid_programmes.toml").read_text(encoding="utf-8") + (
            '\n[[programmes]]\ncode = "flood"\nname = "灾后帮扶"\nposition = 7\n'
            'summary = "受洪涝灾害影响的职工。"\nfields = ["privacy_consent", "name"]\n'
        )
        (data_dir / "aid_programmes.toml").write_text(extra, encoding="utf-8")
        assert sync(db, data_dir) == ["aid: added flood"]
        assert db.get(AidProgramme, "flood").definition["fields"][1]["key"] == "name"
        pilot = db.get(AidProgramme, "pilot")
        assert (pilot.name, pilot.summary, pilot.synced) == ("试点帮扶", "县里试点", None)

    def test_benefit_keywords_and_answers(self, db, data_dir):
        edit(data_dir / "benefits.toml", '"露天作业"]', '"露天作业", "防暑降温费"]')
        edit(data_dir / "benefits.toml", "单位应按月发放高温津贴300元", "单位应按月发放高温津贴")
        db.get(Benefit, "high_temp").answer = "工作人员改过的答复"
        db.commit()
        assert sync(db, data_dir) == [
            "benefit high_temp: keywords updated; answer kept (changed by staff)"
        ]
        high_temp = db.get(Benefit, "high_temp")
        assert "防暑降温费" in high_temp.matching["keywords"]
        assert high_temp.answer == "工作人员改过的答复"

    def test_a_notice_changed_under_the_same_version_is_flagged(self, db, data_dir):
        edit(data_dir / "aid_programmes.toml", PURPOSE_V1, PURPOSE_V2)
        lines = sync(db, data_dir)
        assert lines[0] == (
            "aid hardship: privacy_notice updated; "
            "warning: the privacy notice changed but its notice_version did not"
        )


class TestStaffOwnedValues:
    def test_staff_values_are_kept_and_named_only_when_the_file_changed_them(self, db, data_dir):
        db.execute(update(AidProgramme).where(AidProgramme.code == "jinqiu").values(opens="06-15"))
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(place="县体育馆", capacity=30, results="一等奖：张三")
        )
        db.commit()
        edit(data_dir / "aid_programmes.toml", 'opens = "07-01"', 'opens = "07-05"')
        new_notice(data_dir)
        forklift_place = 'place = "县职工技能实训中心（合德镇）"\ncapacity = 20'
        edit(data_dir / "competitions.toml", forklift_place, 'place = "县实训中心"\ncapacity = 20')
        lines = sync(db, data_dir)
        assert (
            "aid jinqiu: privacy_notice, notice_version updated; opens kept (changed by staff)"
        ) in lines
        assert "competition forklift: place kept (changed by staff)" in lines
        jinqiu, forklift = db.get(AidProgramme, "jinqiu"), db.get(Competition, "forklift")
        assert (jinqiu.opens, jinqiu.closes) == ("06-15", "08-25")
        assert jinqiu.definition["notice_version"] == "2027-01"
        assert (forklift.place, forklift.capacity, forklift.results) == (
            "县体育馆",
            30,
            "一等奖：张三",
        )
        assert sync(db, data_dir) == []  # kept values are not reported again

    def test_station_limits_are_owned_one_by_one(self, db, data_dir):
        set_limit(db, "合德镇户外劳动者驿站", 260)
        edit(
            data_dir / "aid_programmes.toml",
            '"合德镇户外劳动者驿站" = 200',
            '"合德镇户外劳动者驿站" = 220',
        )
        edit(
            data_dir / "aid_programmes.toml",
            '"海河镇户外劳动者驿站" = 100',
            '"海河镇户外劳动者驿站" = 120',
        )
        assert sync(db, data_dir) == [
            "aid summer: quota.limits.海河镇户外劳动者驿站 updated; "
            "quota.limits.合德镇户外劳动者驿站 kept (changed by staff)"
        ]
        limits = db.get(AidProgramme, "summer").definition["quota"]["limits"]
        assert limits["合德镇户外劳动者驿站"] == 260
        assert limits["海河镇户外劳动者驿站"] == 120
        assert limits["县总工会职工服务中心"] == 300

    def test_a_value_staff_set_back_to_the_files_follows_the_file_again(self, db, data_dir):
        jinqiu = db.get(AidProgramme, "jinqiu")
        jinqiu.summary = "临时说明"
        db.commit()
        assert sync(db, data_dir) == []
        jinqiu.summary = jinqiu.synced["summary"]
        db.commit()
        edit(
            data_dir / "aid_programmes.toml",
            "每名学生每年只能申请一次。",
            "每名学生每年限申请一次。",
        )
        assert sync(db, data_dir) == ["aid jinqiu: summary updated"]


class TestRowsFromBeforeSnapshots:
    """An install seeded before migration 0006: no row says what the file held."""

    def forget_snapshots(self, db) -> None:
        for model in (AidProgramme, Competition, Benefit):
            db.execute(update(model).values(synced=None))
        db.commit()

    def test_staff_editable_values_that_differ_are_kept_everything_else_follows_the_file(
        self, db, data_dir
    ):
        self.forget_snapshots(db)
        db.execute(update(AidProgramme).where(AidProgramme.code == "jinqiu").values(opens="06-15"))
        db.commit()
        set_limit(db, "合德镇户外劳动者驿站", 260)
        new_notice(data_dir)
        lines = sync(db, data_dir)
        untracked = (
            "kept (differs from the data file and was set before syncs were recorded, "
            "so taken as changed by staff)"
        )
        assert f"aid jinqiu: privacy_notice, notice_version updated; opens {untracked}" in lines
        assert (
            "aid summer: privacy_notice, notice_version updated; "
            f"quota.limits.合德镇户外劳动者驿站 {untracked}"
        ) in lines
        assert "aid hardship: privacy_notice, notice_version updated" in lines
        assert not [line for line in lines if not line.startswith("aid ")]
        assert db.get(AidProgramme, "jinqiu").opens == "06-15"
        assert (
            db.get(AidProgramme, "summer").definition["quota"]["limits"]["合德镇户外劳动者驿站"]
            == 260
        )
        assert all(p.synced is not None for p in db.scalars(select(AidProgramme)))
        assert sync(db, data_dir) == []

    def test_values_staff_cannot_change_take_the_files(self, db, data_dir):
        db.execute(
            update(Competition)
            .where(Competition.code == "forklift")
            .values(title="旧标题", definition={"fields": [], "notice_version": "2025-01"})
        )
        db.commit()
        self.forget_snapshots(db)
        lines = sync(db, data_dir)
        assert len(lines) == 1 and lines[0].startswith("competition forklift: title, ")
        forklift = db.get(Competition, "forklift")
        assert forklift.title == "冬季岗位练兵·叉车司机技能比武"
        assert forklift.definition["notice_version"] == "2026-11"
        assert forklift.definition["fields"][0]["key"] == "signup_consent"


def consents(db, openid: str) -> list[tuple[str, str]]:
    db.rollback()  # end the read transaction, to see what the chat committed since
    follower = db.scalars(select(Follower).where(Follower.openid == openid)).one()
    return [
        (record.kind, record.notice_version)
        for record in db.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.follower_id == follower.id)
            .order_by(ConsentRecord.id)
        )
    ]


class TestPrivacyNoticeVersions:
    """A new notice applies to new drafts; a draft keeps the version it was consented under."""

    def start_jinqiu(self, worker: Worker) -> str:
        worker.say("帮扶")
        return worker.say("3")

    def test_consent_given_before_a_sync_keeps_its_version(self, app, db, data_dir):
        open_all_windows(db)
        early = Worker(simulator_for(app), "o_early")
        assert PURPOSE_V1 in self.start_jinqiu(early)
        early.say("同意")

        new_notice(data_dir)
        assert "aid jinqiu: privacy_notice, notice_version updated" in sync(db, data_dir)

        early.run(SCRIPTS["jinqiu"][1:])
        early.photo("admission_letter")
        early.say("完成")
        assert "提交成功" in early.say("确认")
        assert (PRIVACY, "2026-11") in consents(db, "o_early")
        assert (PRIVACY, "2027-01") not in consents(db, "o_early")

        late = Worker(simulator_for(app), "o_late")
        shown = self.start_jinqiu(late)
        assert PURPOSE_V2 in shown and PURPOSE_V1 not in shown
        late.say("同意")
        assert consents(db, "o_late") == [(PRIVACY, "2027-01")]

    def test_consent_to_a_notice_shown_before_a_sync_records_the_version_shown(
        self, app, db, data_dir
    ):
        open_all_windows(db)
        worker = Worker(simulator_for(app), "o_between")
        assert PURPOSE_V1 in self.start_jinqiu(worker)
        new_notice(data_dir)
        sync(db, data_dir)
        worker.say("同意")
        assert consents(db, "o_between") == [(PRIVACY, "2026-11")]
