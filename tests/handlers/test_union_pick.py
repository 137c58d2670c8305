"""A worker names their union ("所在工会") in the aid form, through the webhook: a name the
registry knows goes on, a name close to a few asks which, a name close to none is kept
and the application is the county's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AidApplication
from tests.helpers import SCRIPTS, Worker, open_all_windows

NEXT_QUESTION = "家庭共同生活的有几口人"
BEFORE_UNION = SCRIPTS["hardship"][: SCRIPTS["hardship"].index("开发区工会")]
AFTER_UNION = SCRIPTS["hardship"][len(BEFORE_UNION) + 1 :]


@pytest.fixture
def worker(wechat, db) -> Worker:
    """A worker at the 所在工会 question of 困难职工帮扶."""
    open_all_windows(db)
    worker = Worker(wechat)
    worker.say("帮扶")
    worker.say("1")
    assert "基层工会名称" in worker.run(BEFORE_UNION)
    return worker


def submit(worker: Worker) -> str:
    worker.run(AFTER_UNION)
    worker.photo("card")
    summary = worker.say("完成")
    assert "提交成功" in worker.say("确认")
    return summary


def stored(db) -> tuple[str, str | None]:
    """The application's 所在工会 answer and the organisation it was recorded under."""
    db.rollback()
    application = db.scalars(select(AidApplication)).one()
    return application.answers["unit_union"], application.org_code


def test_a_union_the_registry_knows_goes_on_without_a_question(worker, db):
    assert NEXT_QUESTION in worker.say("合德镇工会")
    submit(worker)
    assert stored(db) == ("合德镇工会", "hede")


def test_an_unsure_name_offers_the_closest_and_a_number_picks_one(worker, db):
    question = worker.say("海河镇小学")
    assert "您填写的“海河镇小学”是下面哪个工会" in question
    assert "1 海河镇总工会" in question and "2 海河镇中心小学工会" in question
    assert "都不是" in question and NEXT_QUESTION not in question
    assert NEXT_QUESTION in worker.say("2")
    assert "所在工会：海河镇中心小学工会" in submit(worker)
    assert stored(db) == ("海河镇中心小学工会", "haihe_school")


def test_none_of_them_keeps_the_name_as_typed_for_the_county(worker, db):
    assert "1 合德镇快递外卖骑手联合工会" in worker.say("快递站工会")
    assert NEXT_QUESTION in worker.say("都不是")
    submit(worker)
    assert stored(db) == ("快递站工会", None)


def test_another_name_at_the_question_is_a_new_answer(worker, db):
    assert "哪个工会" in worker.say("风电公司工会")
    assert NEXT_QUESTION in worker.say("金海纺织")
    submit(worker)
    assert stored(db) == ("金海纺织", "jinhai_textile")


def test_a_name_close_to_none_is_kept_without_a_question(worker, db):
    assert NEXT_QUESTION in worker.say("环卫处工会")
    submit(worker)
    assert stored(db) == ("环卫处工会", None)


def test_changing_the_union_at_the_summary_asks_again(worker, db):
    worker.say("合德镇工会")
    worker.run(AFTER_UNION)
    worker.photo("card")
    summary = worker.say("完成")
    line = next(row for row in summary.splitlines() if "所在工会" in row)
    assert "基层工会名称" in worker.say(f"修改 {line.split()[0]}")
    assert "哪个工会" in worker.say("风电公司工会")
    assert worker.say("1").startswith("请核对")
    assert "提交成功" in worker.say("确认")
    assert stored(db) == ("射阳港风电装备有限公司工会", "gangqu_wind")
