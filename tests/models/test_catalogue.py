"""The catalogue a process keeps (models.catalogue): every change reaches the next message.

Each test first asks so that the process holds a snapshot, changes the catalogue
the way staff or a script would, and asks again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from models import AidProgramme, Benefit
from models.catalogue import current
from models.staff import upsert_staff
from tests.helpers import (
    PASSWORD,
    Worker,
    csrf_token,
    login,
)

QUESTION = "高温补贴一个月多少钱"
EDITED = "每月发放高温津贴，详见通知。"


def edit_in_another_process(database_url: str, code: str, answer: str) -> None:
    """Change a benefit's answer from a separate Python process, through the ORM."""
    script = textwrap.dedent(
        f"""
        from sqlalchemy.orm import Session
        from models import Benefit
        from models.database import make_engine
        with Session(make_engine({database_url!r})) as session, session.begin():
            session.get(Benefit, {code!r}).answer = {answer!r}
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


class TestEveryChangeReachesTheNextMessage:
    def test_an_edit_committed_by_another_process(self, app, wechat):
        worker = Worker(wechat)
        assert "300元" in worker.say(QUESTION)
        edit_in_another_process(
            app.extensions["unionbot"].settings.database.url, "high_temp", EDITED
        )
        assert EDITED in worker.say(QUESTION)

    def test_an_admin_edit_in_another_app_instance(self, make_app, app, wechat):
        worker = Worker(wechat)
        assert "【金秋助学】" in worker.say("金秋助学要什么材料")
        other = make_app()
        with other.extensions["unionbot"].session_factory.begin() as session:
            upsert_staff(session, "zhao", PASSWORD, "赵主席", role="admin")
        staff = other.test_client()
        assert login(staff, "zhao").status_code == 302
        data = {
            "csrf_token": csrf_token(staff, "/admin/programmes/jinqiu"),
            "opens": "07-01",
            "closes": "08-25",
            "summary": "金秋助学暂停受理。",
        }  # no "active": the programme is taken off
        assert staff.post("/admin/programmes/jinqiu", data=data).status_code == 302
        assert "【金秋助学】" not in worker.say("金秋助学要什么材料")

    def test_a_bulk_update_through_a_session(self, app, wechat, db):
        worker = Worker(wechat)
        assert "300元" in worker.say(QUESTION)
        db.query(Benefit).filter(Benefit.code == "high_temp").update({"answer": EDITED})
        db.commit()
        assert EDITED in worker.say(QUESTION)

    def test_an_edit_rolled_back_is_never_served(self, app, wechat, db):
        worker = Worker(wechat)
        db.get(Benefit, "high_temp").answer = EDITED
        db.get(AidProgramme, "jinqiu").active = False
        db.flush()
        assert current(db).benefit("high_temp").answer == EDITED  # seen only inside it
        db.rollback()
        assert "300元" in worker.say(QUESTION)
        assert "【金秋助学】" in worker.say("金秋助学要什么材料")


def test_the_snapshot_holds_no_orm_instances(app, db):
    snapshot = current(db)
    for item in (*snapshot.benefits, *snapshot.programmes, *snapshot.competitions):
        assert not hasattr(item, "_sa_instance_state"), item
