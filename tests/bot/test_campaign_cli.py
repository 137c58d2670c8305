"""``unionbot campaign``: list, preview, the two-person approval, run (dry and real), status."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from models import OutboxMessage
from models.campaigns import create
from models.database import make_engine, make_session_factory
from models.staff import upsert_staff
from tests.campaign_support import TEXT, add_followers


def test_staff_plan_approve_and_run_a_campaign_from_the_command_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[wechat]\ntoken = "prodtoken"\n[security]\nsecret_key = "{"s" * 32}"\n'
        f'data_key = "{"A" * 43}="\n[database]\nurl = "sqlite:///{tmp_path / "c.db"}"\n'
        # The quiet hours are one minute at 03:00, so the run starts whenever the test runs.
        '[campaigns]\nquiet_start = "03:00"\nquiet_end = "03:01"\n',
        encoding="utf-8",
    )
    cli = CliRunner()

    def unionbot(*args: str):
        return cli.invoke(main, [*args[:2], "--config", str(config), *args[2:]])

    assert cli.invoke(main, ["init-db", "--config", str(config)]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with make_session_factory(engine).begin() as session:
        for name in ("zhang", "li"):
            upsert_staff(session, name, "a-long-password", display_name=name, role="admin")
        add_followers(session, 3)
        values = {
            "code": "fair",
            "name": "招聘会通知",
            "season": "spring",
            "send_times": ["cron 30 9 * 3 tue"],
            "audience": {"rule": "all"},
            "channel": "mass",
            "content": TEXT,
        }
        create(session, values, "staff:zhang")

    listed = unionbot("campaign", "list")
    assert "招聘会通知" in listed.output and "草稿" in listed.output
    assert "冬送温暖" in listed.output  # the seeded four are there too

    shown = unionbot("campaign", "preview", "招聘会通知")
    assert "受众：3 人" in shown.output
    assert "群发：3 人，分 1 次调用" in shown.output

    own = unionbot("campaign", "approve", "fair", "--by", "zhang")
    assert own.exit_code == 1
    assert "不能审核自己创建的活动" in own.output
    assert unionbot("campaign", "run", "fair").exit_code == 1  # not approved yet

    assert unionbot("campaign", "approve", "fair", "--by", "li").exit_code == 0
    dry = unionbot("campaign", "run", "fair", "--dry-run")
    assert "试运行" in dry.output
    with make_session_factory(engine)() as session:
        assert session.scalars(select(OutboxMessage)).all() == []

    sent = unionbot("campaign", "run", "fair")
    assert sent.exit_code == 0, sent.output
    assert "排队 3 人" in sent.output
    with make_session_factory(engine)() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
        assert len(row.payload["openids"]) == 3

    status = unionbot("campaign", "status", "fair")
    assert "排队 3" in status.output
    engine.dispose()
