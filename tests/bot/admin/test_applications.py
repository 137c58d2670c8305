"""Staff review aid applications in the admin: masked by default, every look audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from models import (
    AidApplication,
    ApplicationEvent,
    ApplicationProof,
    AuditEntry,
    Follower,
    MediaFile,
    OutboxMessage,
)
from models.aid import person_hash
from models.base import utcnow
from models.media import MediaFailure
from models.outbox import enqueue_notice
from models.staff import upsert_staff
from tests.helpers import PASSWORD, REFERENCE, Worker, apply, csrf_token, login, open_all_windows

WANG = "320924198503120022"
PHONE = "13812345678"
CARD = "6222021234567890123"
REF = "SY-2026-000001"
ANSWERS = {
    "privacy_consent": True,
    "name": "王秀梅",
    "id_number": WANG,
    "phone": PHONE,
    "employer": "射阳港风电装备公司",
    "union_member": True,
    "unit_union": "开发区工会",
    "household_size": 3,
    "monthly_income": 2000,
    "rigid_expense": 300,
    "cause": "因病",
    "emergency_cost": 60000,
    "reason": "爱人患病，急事请打13912345678",
    "bank_card": CARD,
    "publicity_consent": True,
}


@pytest.fixture
def staff(app):
    with app.extensions["unionbot"].session_factory.begin() as session:
        upsert_staff(session, "wang", PASSWORD, "王科长", role="reviewer")
        upsert_staff(session, "zhao", PASSWORD, "赵主席", role="admin")


@pytest.fixture
def signed_in(client, staff):
    assert login(client).status_code == 302
    return client


def add_application(
    app,
    reference: str = REF,
    status: str = "submitted",
    programme: str = "hardship",
    openid: str = "o_worker",
    answers: dict | None = None,
    media_ids: tuple[str, ...] = (),
) -> None:
    """An application as the chat would have left it, written straight through the ORM."""
    now = utcnow()
    with app.extensions["unionbot"].session_factory.begin() as session:
        follower = session.scalars(select(Follower).where(Follower.openid == openid)).first()
        if follower is None:
            follower = Follower(openid=openid)
            session.add(follower)
            session.flush()
        answers = answers or ANSWERS
        application = AidApplication(
            reference=reference,
            programme_code=programme,
            follower_id=follower.id,
            season=2026,
            status=status,
            answers=answers,
            grade="相对困难",
            publicity_consent=True,
            id_hash=person_hash(answers["id_number"]),
            submitted_at=now,
            updated_at=now,
        )
        session.add(application)
        session.flush()
        session.add(
            ApplicationEvent(
                application_id=application.id,
                from_status="draft",
                to_status="submitted",
                actor="worker",
                at=now,
            )
        )
        for media_id in media_ids:
            session.add(
                ApplicationProof(application_id=application.id, media_id=media_id, received_at=now)
            )


def decide(client, to_status: str, comment: str = "", reference: str = REF):
    return client.post(
        f"/admin/applications/{reference}/decision",
        data={
            "to_status": to_status,
            "comment": comment,
            "csrf_token": csrf_token(client, "/admin/"),
        },
    )


def reveal(client, field: str, reference: str = REF, reason: str = "verify", note: str = ""):
    return client.post(
        f"/admin/applications/{reference}/reveal",
        data={
            "field": field,
            "reason": reason,
            "note": note,
            "csrf_token": csrf_token(client, "/admin/"),
        },
    )


def audits(db, action: str) -> list[tuple[str, str, str]]:
    db.expire_all()
    rows = db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    return [(row.actor, row.subject, row.detail) for row in rows]


def current(db, reference: str = REF) -> AidApplication:
    db.expire_all()
    return db.scalars(select(AidApplication).where(AidApplication.reference == reference)).one()


@pytest.mark.parametrize(
    "path",
    ["/admin/applications", f"/admin/applications/{REF}", f"/admin/applications/{REF}/proofs/1"],
)
def test_pages_need_a_signed_in_staff_member(client, app, path):
    add_application(app)
    response = client.get(path)
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_anonymous_decision_is_sent_to_login_and_changes_nothing(client, app, db):
    add_application(app)
    token = csrf_token(client)  # a valid token from the login page: only the login is missing
    response = client.post(
        f"/admin/applications/{REF}/decision", data={"to_status": "approved", "csrf_token": token}
    )
    assert "/admin/login" in response.headers["Location"]
    assert current(db).status == "submitted"


def test_list_shows_masked_names_and_no_personal_numbers(signed_in, app):
    add_application(app)
    add_application(
        app,
        "SY-2026-000002",
        answers={**ANSWERS, "name": "李梅", "id_number": "320924197811050041"},
    )
    page = signed_in.get("/admin/applications").get_data(as_text=True)
    assert REF in page and "SY-2026-000002" in page
    assert "王*梅" in page and "李*" in page and "困难职工帮扶" in page
    assert "已提交，待审核" in page and "相对困难" in page
    assert "王秀梅" not in page and WANG not in page and "320924197811050041" not in page
    assert page.index("SY-2026-000002") < page.index(REF)  # newest first


def test_list_filters_by_status_and_programme(signed_in, app):
    add_application(app, "SY-2026-000001", status="submitted")
    add_application(app, "SY-2026-000002", status="approved", openid="o_li")
    add_application(app, "SY-2026-000003", status="needs_info", programme="illness", openid="o_z")

    def shown(query: str) -> set[str]:
        page = signed_in.get(f"/admin/applications?{query}").get_data(as_text=True)
        return set(REFERENCE.findall(page))

    assert shown("status=approved") == {"SY-2026-000002"}
    assert shown("status=undecided") == {"SY-2026-000001", "SY-2026-000003"}
    assert shown("programme=illness") == {"SY-2026-000003"}
    assert shown("status=approved&programme=illness") == set()
    assert len(shown("status=bogus")) == 3


def test_dashboard_counts_undecided_applications_and_links_them(signed_in, app):
    add_application(app, "SY-2026-000001", status="submitted")
    add_application(app, "SY-2026-000002", status="needs_info", openid="o_li")
    add_application(app, "SY-2026-000003", status="paid", openid="o_z")
    page = signed_in.get("/admin/").get_data(as_text=True)
    card = re.search(r"待处理申请</a><b>(\d+)</b>", page)
    assert card and card.group(1) == "2"
    assert "待审核 1" in page and "待补充 1" in page
    assert 'href="/admin/applications"' in page  # the nav


def test_detail_masks_answers_by_kind_and_audits_the_view(signed_in, app, db):
    add_application(app)
    page = signed_in.get(f"/admin/applications/{REF}").get_data(as_text=True)
    assert "身份证号" in page and "320***********0022" in page
    assert "138****5678" in page and "**** 0123" in page
    assert "139****5678" in page  # a number typed into free text
    assert "王秀梅" in page and "相对困难" in page and "同意以打码姓名公示" in page
    for raw in (WANG, PHONE, CARD, "13912345678"):
        assert raw not in page
    assert "职工" in page and "草稿 → 已提交，待审核" in page  # the history
    assert audits(db, "view") == [("staff:wang", REF, "")]


def test_unknown_application_is_404(signed_in):
    assert signed_in.get("/admin/applications/SY-2026-999999").status_code == 404


def test_reveal_shows_that_one_value_once_and_is_audited(signed_in, app, db):
    add_application(app)
    response = reveal(signed_in, "id_number")
    assert response.status_code == 302
    assert WANG not in response.headers["Location"]
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert WANG in page and "已显示完整内容" in page
    assert PHONE not in page and CARD not in page  # only the field asked for
    assert audits(db, "reveal") == [("staff:wang", REF, "id_number")]
    assert WANG not in signed_in.get(f"/admin/applications/{REF}").get_data(as_text=True)


@pytest.mark.parametrize("field", ["name", "reason", "missing", "child_id_number"])
def test_only_sensitive_answers_can_be_revealed(signed_in, app, db, field):
    add_application(app)
    assert reveal(signed_in, field).status_code == 400
    assert audits(db, "reveal") == []


@pytest.mark.parametrize("action", ["reveal", "decision"])
def test_posts_without_a_csrf_token_are_refused(signed_in, app, db, action):
    add_application(app)
    data = {"field": "id_number", "to_status": "approved"}
    response = signed_in.post(f"/admin/applications/{REF}/{action}", data=data)
    assert response.status_code == 400
    assert current(db).status == "submitted"
    assert audits(db, "reveal") == [] and audits(db, "transition") == []


def test_decision_offers_only_what_staff_may_do_now(signed_in, app):
    add_application(app)
    page = signed_in.get(f"/admin/applications/{REF}").get_data(as_text=True)
    decision = re.search(r'<select[^>]*name="to_status".*?</select>', page, re.S).group(0)
    offered = set(re.findall(r'<option[^>]*value="(\w+)"', decision))
    assert offered == {"under_review", "needs_info", "approved", "rejected"}


@pytest.mark.parametrize("to_status", ["needs_info", "rejected"])
def test_needs_info_or_rejection_without_a_comment_is_refused(signed_in, app, db, to_status):
    add_application(app)
    response = decide(signed_in, to_status, comment="   ")
    assert response.status_code == 400
    assert "时必须填写说明" in response.get_data(as_text=True)
    assert current(db).status == "submitted"
    assert len(current(db).events) == 1
    assert db.scalars(select(OutboxMessage)).all() == []
    assert audits(db, "transition") == []


@pytest.mark.parametrize(("username", "actor"), [("wang", "staff:wang"), ("zhao", "staff:zhao")])
def test_decision_moves_the_application_and_tells_the_worker(
    client, staff, app, db, username, actor
):
    add_application(app)
    login(client, username=username)
    response = decide(client, "needs_info", comment="请补充户口本照片")
    assert response.headers["Location"] == f"/admin/applications/{REF}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已将申请 {REF} 改为“需补充材料”，已通知职工" in page

    application = current(db)
    assert application.status == "needs_info"
    event = application.events[-1]
    assert (event.from_status, event.to_status, event.actor) == ("submitted", "needs_info", actor)
    assert event.comment == "请补充户口本照片"
    notice = db.scalars(select(OutboxMessage)).one()
    assert notice.recipient == "o_worker"
    assert REF in notice.payload["text"] and "请补充户口本照片" in notice.payload["text"]
    assert audits(db, "transition") == [(actor, REF, "submitted→needs_info")]


def test_illegal_transition_changes_nothing(signed_in, app, db):
    add_application(app, status="withdrawn")
    page = signed_in.get(f"/admin/applications/{REF}").get_data(as_text=True)
    assert "已办结" in page and "提交处理结果" not in page
    response = decide(signed_in, "approved")
    assert response.status_code == 302
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "无法把申请从“已撤回”改为“审核通过”" in page
    assert current(db).status == "withdrawn" and len(current(db).events) == 1
    assert db.scalars(select(OutboxMessage)).all() == []
    assert audits(db, "transition") == []


def test_proof_not_yet_downloaded_shows_as_pending(signed_in, app, db):
    add_application(app, media_ids=("NOT_YET",))
    page = signed_in.get(f"/admin/applications/{REF}").get_data(as_text=True)
    assert "待下载" in page and "查看照片" not in page
    proof_id = current(db).proofs[0].id
    assert signed_in.get(f"/admin/applications/{REF}/proofs/{proof_id}").status_code == 404


def test_proof_wechat_deleted_before_download_shows_as_lost(signed_in, app, db):
    add_application(app, media_ids=("GONE",))
    when = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
    with app.extensions["unionbot"].session_factory.begin() as session:
        session.add(MediaFailure(media_id="GONE", received_at=when, failed_at=when, reason="x"))
    page = signed_in.get(f"/admin/applications/{REF}").get_data(as_text=True)
    assert "下载失败" in page and "2026-03-04 10:00:00" in page and "已请职工重新发送" in page
    assert "待下载" not in page


def test_dashboard_counts_sends_that_may_have_arrived_twice(signed_in, app):
    page = signed_in.get("/admin/").get_data(as_text=True)
    assert "可能重复" not in page
    with app.extensions["unionbot"].session_factory.begin() as session:
        enqueue_notice(session, key="n1", kind="status", follower_id=None, openid="o_x", text="x")
        session.flush()
        session.scalars(select(OutboxMessage)).one().uncertain = 1
    page = signed_in.get("/admin/").get_data(as_text=True)
    assert "其中 1 条发送时超时" in page


def test_proof_of_another_application_is_404(signed_in, app, db):
    add_application(app, "SY-2026-000001", media_ids=("M1",))
    add_application(app, "SY-2026-000002", openid="o_li")
    with app.extensions["unionbot"].session_factory.begin() as session:
        session.add(
            MediaFile(
                media_id="M1", sha256="0" * 64, path="x.png", content_type="image/png", size=1
            )
        )
    proof_id = current(db).proofs[0].id
    assert signed_in.get(f"/admin/applications/SY-2026-000002/proofs/{proof_id}").status_code == 404


def test_worker_applies_in_chat_and_staff_approve_it(signed_in, wechat, db, drainer):
    """The whole story: a worker applies with a photo, staff look at it and approve."""
    # The worker applies through the signed webhook, sending one proof photo.
    open_all_windows(db)
    reference = REFERENCE.search(apply(Worker(wechat, "o_wang"), "hardship")).group()
    drainer.drain_until_empty()  # the photo is fetched from WeChat into the media directory

    # Staff find it in the list of undecided applications.
    listing = signed_in.get("/admin/applications?status=undecided").get_data(as_text=True)
    assert reference in listing and "王*梅" in listing and WANG not in listing

    # They open it and the photo, served with its type, only from the admin.
    page = signed_in.get(f"/admin/applications/{reference}").get_data(as_text=True)
    assert "320***********0022" in page and WANG not in page
    photo = re.search(r'href="(/admin/applications/[^"]+/proofs/\d+)"', page).group(1)
    with signed_in.get(photo) as response:  # closing it closes the served file
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.data.startswith(b"\x89PNG")
        assert "no-store" in response.headers["Cache-Control"]

    # They approve; the worker's notice waits in the outbox.
    response = decide(signed_in, "approved", comment="", reference=reference)
    assert response.status_code == 302
    assert current(db, reference).status == "approved"
    notices = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "aid_status")).all()
    assert [(n.recipient, reference in n.payload["text"]) for n in notices] == [("o_wang", True)]
    assert [a for _, _, a in audits(db, "transition")] == ["submitted→approved"]
    assert len(audits(db, "proof")) == 1 and len(audits(db, "view")) == 1
