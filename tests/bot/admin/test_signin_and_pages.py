"""The admin: staff sign in, read the message log with personal numbers masked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AuditEntry, Follower, HandoffRequest, OutboxMessage
from models.alerts import raise_alert
from models.outbox import enqueue_notice
from models.staff import upsert_staff
from tests.helpers import PASSWORD, csrf_token, login


@pytest.fixture
def staff(app):
    with app.extensions["unionbot"].session_factory.begin() as session:
        upsert_staff(session, "wang", PASSWORD, "王科长", role="reviewer")


def test_login_page_is_in_chinese(client):
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert "工作人员登录" in page.get_data(as_text=True)


def test_pages_need_a_signed_in_staff_member(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_wrong_password_is_refused(client, staff):
    response = login(client, password="wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_monitor_checking_the_login_page_with_head_gets_200(client):
    assert client.head("/admin/login").status_code == 200


def test_login_without_csrf_token_is_refused(client, staff):
    response = client.post("/admin/login", data={"username": "wang", "password": PASSWORD})
    assert response.status_code in (400, 401)
    assert client.get("/admin/").status_code == 302


def test_staff_read_the_log_with_numbers_masked(client, staff, wechat, db):
    wechat.send_text("o_worker", "我的身份证320924198503120022，手机13812345678")
    assert login(client).status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert "王科长" in page
    assert "320***********0022" in page and "138****5678" in page
    assert "320924198503120022" not in page and "13812345678" not in page

    follower_link = re.search(r'href="(/admin/followers/\d+)"', page).group(1)
    transcript = client.get(follower_link).get_data(as_text=True)
    assert "320***********0022" in transcript
    assert "320924198503120022" not in transcript
    assert "没听懂" in transcript  # the bot's reply is shown beside the message
    viewed = db.scalars(select(AuditEntry).where(AuditEntry.action == "transcript")).one()
    follower_id = follower_link.rsplit("/", 1)[1]
    assert (viewed.actor, viewed.subject) == ("staff:wang", f"follower:{follower_id}")


def test_login_never_redirects_off_site(client, staff):
    response = login(client, next_url="https://evil.example/")
    assert response.headers["Location"] == "/admin/"
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    response = login(client, next_url="/admin/followers/1")
    assert response.headers["Location"] == "/admin/followers/1"


def test_logout_ends_the_session(client, staff):
    login(client)
    assert client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert client.get("/admin/").status_code == 302


def test_unknown_follower_is_404(client, staff):
    login(client)
    assert client.get("/admin/followers/999999").status_code == 404


def test_undeliverable_messages_and_alerts_show_with_their_reason(client, staff, app, wechat):
    wechat.send_text("o_worker", "你好")
    with app.extensions["unionbot"].session_factory.begin() as session:
        follower = session.query(Follower).one()
        enqueue_notice(
            session,
            key="n1",
            kind="aid.decision",
            follower_id=follower.id,
            openid="o_worker",
            text="您的申请已通过",
        )
        row = session.query(OutboxMessage).one()
        row.status, row.last_error_code, row.last_error = "dead", 43004, "未关注公众号 (43004)"
        raise_alert(session, "access_token", "无法获取 access_token：-1: system busy")
    login(client)
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "无法获取 access_token" in dashboard
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "您的申请已通过" in page and "[43004] 未关注公众号" in page and "无法送达" in page


def test_staff_work_through_the_call_back_list(client, staff, wechat, db):
    wechat.send_text("o_caller", "帮扶")
    wechat.send_text("o_caller", "1")
    wechat.send_text("o_caller", "人工")
    wechat.send_text("o_other", "我想找人工客服")
    assert client.get("/admin/handoffs").status_code == 302  # signed-in staff only
    login(client)
    page = client.get("/admin/handoffs").get_data(as_text=True)
    assert "困难职工帮扶申请" in page and page.count("已联系</button>") == 2
    request_id = db.scalars(select(HandoffRequest.id).order_by(HandoffRequest.id)).first()
    path = f"/admin/handoffs/{request_id}/done"
    assert client.post(path).status_code == 400  # no CSRF token
    token = csrf_token(client, "/admin/handoffs")
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    db.rollback()
    handled = db.get(HandoffRequest, request_id)
    assert (handled.handled_by, handled.handled_at is not None) == ("wang", True)
    page = client.get("/admin/handoffs").get_data(as_text=True)
    assert page.count("已联系</button>") == 1
    assert db.scalars(select(AuditEntry.action)).all() == ["login", "handoff"]
