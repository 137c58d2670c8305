"""Whether a message inside a form is its answer is judged as the form judges it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from models import Conversation
from tests.helpers import SCRIPTS, Worker

# The union's day: Friday 14 August 2026 in Beijing. The machine's day is another (later)
# one, so a date ten years back is within the form's limit but not the machine's.
NOW = dt.datetime(2026, 8, 14, 2, 0, tzinfo=dt.UTC)
UP_TO_THE_DIAGNOSIS_DATE = 11


@pytest.fixture
def worker(wechat, monkeypatch) -> Worker:
    monkeypatch.setattr("bot.intake.utcnow", lambda: NOW)
    return Worker(wechat, "o_asides")


def test_after_a_pause_a_date_is_judged_against_the_union_s_day_and_goes_on(worker, db):
    worker.say("帮扶")
    worker.say("2")  # 大病帮扶
    worker.run(SCRIPTS["illness"][:UP_TO_THE_DIAGNOSIS_DATE])
    assert "确诊日期" in worker.last
    db.execute(update(Conversation).values(updated_at=NOW - dt.timedelta(minutes=45)))
    db.commit()
    # Ten years and two weeks before the union's day: a date the field takes, so an
    # answer only this question can take, and the form goes on to judge it.
    reply = worker.say("2016年9月1日")
    assert "受理当年确诊的疾病" in reply
    assert "未完成的" not in reply
