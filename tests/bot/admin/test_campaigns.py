"""群发活动 in the admin: create, preview, the two-person approval enforced on the server,
an edit sending it back to draft, run now and the run's history; all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry
from models.campaign_runs import CampaignRun
from models.campaigns import APPROVED, DRAFT, RUNNING, find_campaign
from models.staff import upsert_staff
from tests.campaign_support import TEXT, add_followers
from tests.helpers import PASSWORD, csrf_token, login

FORM = {
    "code": "fair_2027",
    "name": "春风行动招聘会",
    "season": "spring",
    "send_times": "元宵+2 09:30\ncron 30 9 2 3 *",
    "rule": "all",
    "channel": "mass",
    "content": TEXT,
}


@pytest.fixture
def operators(app):
    with app.extensions["unionbot"].session_factory.begin() as session:
        upsert_staff(session, "zhang", PASSWORD, "张干事", role="operator")
        upsert_staff(session, "li", PASSWORD, "李干事", role="operator")
        upsert_staff(session, "wang", PASSWORD, "王科长", role="reviewer")


def post(client, path: str, data: dict | None = None):
    token = csrf_token(client, "/admin/campaigns")
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=True)


def test_two_people_plan_approve_and_run_a_campaign(app, client, db, operators):
    add_followers(db, 3)
    db.commit()
    assert login(client, "zhang").status_code == 302
    page = post(client, "/admin/campaigns/new", FORM).get_data(as_text=True)
    assert "活动已创建为草稿" in page
    assert "受众：3 人" in page and "群发：3 人，分 1 次调用" in page
    assert "o_fa****0000" in page  # the masked sample

    # The author's own approval is refused by the server, whatever the page shows.
    page = post(client, "/admin/campaigns/fair_2027/approve").get_data(as_text=True)
    assert "不能审核自己创建的活动" in page
    assert find_campaign(db, "fair_2027").status == DRAFT

    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/campaigns")})
    assert login(client, "li").status_code == 302
    assert "已审核通过" in post(client, "/admin/campaigns/fair_2027/approve").get_data(as_text=True)
    db.commit()
    assert (find_campaign(db, "fair_2027").status, find_campaign(db, "fair_2027").approver) == (
        APPROVED,
        "staff:li",
    )

    # li edits after approval: back to draft, and li is now the author of what would go out.
    edited = post(client, "/admin/campaigns/fair_2027/edit", FORM | {"content": TEXT + "欢迎。"})
    assert "已退回草稿" in edited.get_data(as_text=True)
    db.commit()
    assert (find_campaign(db, "fair_2027").status, find_campaign(db, "fair_2027").author) == (
        DRAFT,
        "staff:li",
    )
    page = post(client, "/admin/campaigns/fair_2027/approve").get_data(as_text=True)
    assert "不能审核自己创建的活动" in page

    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/campaigns")})
    login(client, "zhang")
    assert "已审核通过" in post(client, "/admin/campaigns/fair_2027/approve").get_data(as_text=True)
    db.commit()
    assert find_campaign(db, "fair_2027").approver == "staff:zhang"


def test_a_reviewer_cannot_reach_campaigns(client, operators):
    login(client, "wang")
    assert client.get("/admin/campaigns").status_code == 403
    token = csrf_token(client, "/admin/applications")
    assert (
        client.post("/admin/campaigns/new", data={**FORM, "csrf_token": token}).status_code == 403
    )


def test_run_now_queues_a_run_and_the_page_shows_it(app, client, db, operators):
    add_followers(db, 2)
    db.commit()
    login(client, "zhang")
    assert "发送时间（每行一个，北京时间）" in client.get("/admin/campaigns/new").get_data(
        as_text=True
    )
    post(client, "/admin/campaigns/new", FORM)
    assert "元宵+2 09:30" in client.get("/admin/campaigns/fair_2027/edit").get_data(as_text=True)
    listing = client.get("/admin/campaigns").get_data(as_text=True)
    assert "春风行动招聘会" in listing and "冬送温暖" in listing
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/campaigns")})
    login(client, "li")
    post(client, "/admin/campaigns/fair_2027/approve")
    page = post(client, "/admin/campaigns/fair_2027/run").get_data(as_text=True)
    assert "已加入发送队列" in page
    assert "发送记录" in page
    db.commit()
    assert find_campaign(db, "fair_2027").status == RUNNING
    assert db.scalars(select(CampaignRun)).one().actor == "staff:li"
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.subject == "fair_2027")).all()
    assert actions == ["campaign.create", "campaign.approve", "campaign.run"]


def test_the_audience_form_keeps_the_rule_and_refuses_a_year_in_words(app, client, db, operators):
    login(client, "zhang")
    rule = {"rule": "applicants", "programme": "jinqiu"}
    page = post(client, "/admin/campaigns/new", FORM | rule | {"audience_season": "去年"})
    assert "年度请填写数字" in page.get_data(as_text=True)
    post(client, "/admin/campaigns/new", FORM | rule | {"audience_season": "2025"})
    db.commit()
    campaign = find_campaign(db, "fair_2027")
    assert (campaign.season, campaign.audience) == ("spring", rule | {"season": 2025})
