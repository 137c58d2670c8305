"""The ``unionbot`` command as a new user runs it: real processes, real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from bot.config import load_settings
from bot.simulator import HttpTransport, Simulator
from models import Follower
from models.outbox import enqueue_notice
from models.seed import DATA
from tests.conftest import AES_KEY, free_port
from tests.helpers import unionbot


def demo_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {"UNIONBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", **extra}
    env.pop("UNIONBOT_CONFIG", None)
    return env


def rows(tmp_path, sql: str) -> list[tuple]:
    engine = create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with engine.connect() as conn:
        result = list(conn.execute(text(sql)))
    engine.dispose()
    return result


def answering(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers 200."""

    def ready() -> bool:
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    return ready


@contextmanager
def running(
    tmp_path, *args: str, ready: Callable[[], bool], env=None
) -> Iterator[tuple[subprocess.Popen, list[str]]]:
    """Run ``unionbot ARGS`` until the block ends, entering it once ``ready()``; the
    process's output lands in the yielded list when it has been stopped (SIGTERM)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while not ready():
            if process.poll() is not None:
                pytest.fail(f"{args[0]} exited early:\n" + process.stdout.read())
            if time.monotonic() > deadline:
                pytest.fail(f"{args[0]} did not become ready")
            time.sleep(0.2)
        yield process, output
    finally:
        process.terminate()
        output.append(process.communicate(timeout=10)[0])


@contextmanager
def serving(tmp_path, *args: str, env=None) -> Iterator[tuple[str, list[str]]]:
    """Run ``unionbot serve`` until the block ends; its output lands in the yielded list."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = ("serve", "--port", str(port), *args)
    with running(tmp_path, *serve, ready=answering(base + "/healthz"), env=env) as (_, output):
        yield base, output


COMMANDS = (
    "serve",
    "init-db",
    "sync-data",
    "chat",
    "worker",
    "drain",
    "push-menu",
    "fake-wechat",
    "add-staff",
    "gen-key",
    "reencrypt",
    "aid-window",
    "campaign",
)


def test_help_lists_every_command(tmp_path):
    out = unionbot("--help", cwd=tmp_path).stdout
    listed = out.partition("Commands:")[2].split("\n")
    assert {line.split()[0] for line in listed if line.strip()} == set(COMMANDS)


def test_chat_through_stdin_uses_the_real_webhook(tmp_path):
    result = unionbot("chat", cwd=tmp_path, env=demo_env(tmp_path), stdin="帮助\n人工\n/退出\n")
    assert result.returncode == 0, result.stderr
    assert "明文模式" in result.stdout
    assert "欢迎关注射阳县总工会" in result.stdout
    assert "回复数字或关键词" in result.stdout
    assert "已记录您的人工服务请求" in result.stdout
    stored = rows(tmp_path, "SELECT msg_type, event, content FROM deliveries ORDER BY id")
    demo_keyring = load_settings(env={}).security.keyring()
    assert [
        (kind, event, content and demo_keyring.decrypt(content)) for kind, event, content in stored
    ] == [
        ("event", "subscribe", None),
        ("text", None, "帮助"),
        ("text", None, "人工"),
    ]


def test_chat_in_safe_mode_encrypts_both_ways(tmp_path):
    env = demo_env(tmp_path, UNIONBOT_WECHAT_ENCODING_AES_KEY=AES_KEY)
    result = unionbot("chat", "--openid", "o_safe", cwd=tmp_path, env=env, stdin="帮助\n")
    assert result.returncode == 0, result.stderr
    assert "加密模式" in result.stdout
    assert "回复数字或关键词" in result.stdout
    assert rows(tmp_path, "SELECT openid FROM followers") == [("o_safe",)]


def test_serve_answers_wechat_over_real_http(tmp_path):
    env = demo_env(tmp_path)
    with serving(tmp_path, env=env) as (base, _output):
        settings = load_settings(env={})  # the demo's token, as a new user would use it
        wechat = Simulator(settings.wechat, HttpTransport(base))
        assert "欢迎关注" in wechat.send_event("o_http", "subscribe").text
        assert wechat.send_text("o_http", "菜单").text.startswith("回复数字或关键词")
        assert requests.get(base + "/admin/login", timeout=5).status_code == 200
        chatted = unionbot(
            "chat", "--url", base, "--openid", "o_cli", cwd=tmp_path, env=env, stdin="人工\n"
        )
        assert "已记录您的人工服务请求" in chatted.stdout
    assert {r[0] for r in rows(tmp_path, "SELECT openid FROM followers")} == {"o_http", "o_cli"}


def test_serve_prints_where_it_listens(tmp_path):
    with serving(tmp_path, env=demo_env(tmp_path)) as (base, output):
        pass
    output = output[0]
    assert f"{base}/wechat" in output
    assert f"{base}/admin/" in output
    assert "admin / unionbot-demo" in output


def test_serve_refuses_an_outdated_schema_with_a_hint(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[wechat]\ntoken = "prodtoken"\n[security]\nsecret_key = "{"s" * 32}"\n'
        f'data_key = "{"A" * 43}="\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "prod.db"}"\n',
        encoding="utf-8",
    )
    refused = unionbot("serve", "--config", str(config), cwd=tmp_path)
    assert refused.returncode != 0
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("unionbot: database schema is outdated (at empty")
    )
    assert "run: unionbot init-db" in refused.stderr
    assert "Traceback" not in refused.stderr

    ready = unionbot("init-db", "--config", str(config), cwd=tmp_path)
    assert ready.returncode == 0 and "database ready at revision" in ready.stdout


def test_demo_serve_drains_notices_to_its_fake_wechat(tmp_path):
    env = demo_env(tmp_path)
    with serving(tmp_path, env=env) as (base, _output):
        settings = load_settings(env={})
        wechat = Simulator(settings.wechat, HttpTransport(base))
        wechat.send_text("o_demo", "你好")
        engine = create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
        from sqlalchemy.orm import Session

        from models.outbox import enqueue_notice

        with Session(engine) as session, session.begin():
            follower_id = session.execute(text("SELECT id FROM followers")).scalar()
            enqueue_notice(
                session,
                key="demo-notice",
                kind="reply",
                follower_id=follower_id,
                openid="o_demo",
                text="演示通知",
            )
        engine.dispose()
        deadline = time.monotonic() + 15
        sent = []
        while not sent and time.monotonic() < deadline:
            calls = requests.get(base + "/fake-wechat/_fake/calls", timeout=5).json()["calls"]
            sent = [c for c in calls if c["path"] == "message/custom/send" and c["errcode"] == 0]
            time.sleep(0.2)
        assert [c["json"]["text"]["content"] for c in sent] == ["演示通知"]
        page = requests.get(base + "/fake-wechat/_fake/", timeout=5).text
        assert "演示通知" in page


def test_push_menu_creates_the_menu(tmp_path, fake_server):
    fake, url = fake_server
    fake.reset()
    env = demo_env(
        tmp_path,
        UNIONBOT_WECHAT_API_BASE_URL=url + "/cgi-bin/",
        UNIONBOT_WECHAT_APP_ID=fake.app_id,
        UNIONBOT_WECHAT_APP_SECRET=fake.app_secret,
    )
    result = unionbot("push-menu", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "menu created: 帮扶申请 | 竞赛报名 | 普惠服务" in result.stdout
    keys = {sub["key"] for top in fake.menu["button"] for sub in top["sub_button"]}
    assert {"AID", "COMPETITION", "BENEFITS"} <= keys


def test_push_menu_works_while_the_demo_service_holds_the_write_lock(tmp_path, fake_server):
    """It only reads the database: it must not wait for the write lock a busy service holds."""
    fake, url = fake_server
    fake.reset()
    env = demo_env(
        tmp_path,
        UNIONBOT_WECHAT_API_BASE_URL=url + "/cgi-bin/",
        UNIONBOT_WECHAT_APP_ID=fake.app_id,
        UNIONBOT_WECHAT_APP_SECRET=fake.app_secret,
    )
    assert unionbot("push-menu", cwd=tmp_path, env=env).returncode == 0  # demo set up
    busy = sqlite3.connect(tmp_path / "demo.db", isolation_level=None)
    try:
        busy.execute("BEGIN IMMEDIATE")  # the service, mid-write
        result = unionbot("push-menu", cwd=tmp_path, env=env, timeout=20)
    finally:
        busy.execute("ROLLBACK")
        busy.close()
    assert result.returncode == 0, result.stderr
    assert "menu created" in result.stdout


def test_chat_over_http_to_a_server_that_is_not_running_says_so_in_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = unionbot("chat", "--url", url, cwd=tmp_path, env=demo_env(tmp_path), stdin="你好\n")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"unionbot: cannot reach {url}/wechat (ConnectionError): is `unionbot serve` running?"
    ]


# --- the data files: init-db, sync-data, aid-window ---------------------------------------

JINQIU_WINDOW = "SELECT opens, closes FROM aid_programmes WHERE code = 'jinqiu'"


def data_copy(tmp_path) -> Path:
    """A copy of the shipped data files, for a test to change."""
    copied = tmp_path / "data"
    shutil.copytree(DATA, copied)
    return copied


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def only_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_init_db_adds_the_catalogue_once_and_says_what_it_added(tmp_path):
    env = demo_env(tmp_path)
    first = unionbot("init-db", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("union: added sheyang, hede, ")
    assert lines[1] == "aid: added hardship, illness, jinqiu, winter, summer, spring_jobs"
    assert lines[2].startswith("competition: added forklift, ")
    assert lines[3].startswith("benefit: added join, ")
    assert lines[-1].startswith("database ready at revision ")
    assert rows(tmp_path, "SELECT count(*) FROM aid_programmes WHERE synced IS NULL") == [(0,)]
    again = unionbot("init-db", cwd=tmp_path, env=env)
    assert again.stdout.splitlines() == [lines[-1]]


def test_sync_data_brings_file_changes_and_keeps_the_window_staff_set(tmp_path):
    env = demo_env(tmp_path)
    assert unionbot("init-db", cwd=tmp_path, env=env).returncode == 0
    moved = unionbot(
        "aid-window", "jinqiu", "--opens", "06-15", "--closes", "08-31", cwd=tmp_path, env=env
    )
    assert moved.returncode == 0, moved.stderr
    data = data_copy(tmp_path)
    edit(data / "aid_programmes.toml", 'notice_version = "2026-11"', 'notice_version = "2027-01"')
    edit(data / "aid_programmes.toml", "用途：仅用于审核和发放帮扶。", "用途：仅用于审核帮扶。")
    edit(data / "aid_programmes.toml", 'opens = "07-01"', 'opens = "07-05"')
    edit(data / "fields.toml", "请输入学生（子女）姓名。", "请输入学生姓名（与身份证一致）。")

    synced = unionbot("sync-data", "--data-dir", str(data), cwd=tmp_path, env=env)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.splitlines() == [
        "aid hardship: privacy_notice, notice_version updated",
        "aid illness: privacy_notice, notice_version updated",
        "aid jinqiu: fields, privacy_notice, notice_version updated; opens kept (changed by staff)",
        "aid winter: privacy_notice, notice_version updated",
        "aid summer: privacy_notice, notice_version updated",
        "aid spring_jobs: privacy_notice, notice_version updated",
    ]
    assert rows(tmp_path, JINQIU_WINDOW) == [("06-15", "08-31")]
    definition = json.loads(
        rows(tmp_path, "SELECT definition FROM aid_programmes WHERE code = 'jinqiu'")[0][0]
    )
    assert definition["notice_version"] == "2027-01"
    assert "用途：仅用于审核帮扶。" in definition["privacy_notice"]
    assert "请输入学生姓名（与身份证一致）。" in [field["prompt"] for field in definition["fields"]]

    again = unionbot("sync-data", "--data-dir", str(data), cwd=tmp_path, env=env)
    assert again.stdout == "nothing changed: the database has what the data files say\n"


def test_sync_data_refuses_an_outdated_schema(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[wechat]\ntoken = "prodtoken"\n[security]\nsecret_key = "{"s" * 32}"\n'
        f'data_key = "{"A" * 43}="\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "prod.db"}"\n',
        encoding="utf-8",
    )
    refused = unionbot("sync-data", "--config", str(config), cwd=tmp_path)
    assert refused.returncode != 0
    assert only_line(refused.stderr).endswith("run: unionbot init-db")


WINDOW_REFUSALS = [
    (("--opens", "04-31", "--closes", "05-31"), "--opens '04-31' is not a day of the year"),
    (("--opens", "04-01", "--closes", "13-01"), "--closes '13-01' is not a day of the year"),
    (("--opens", "04-01"), "give both --opens and --closes as MM-DD, or --all-year"),
    (("--closes", "05-01", "--all-year"), "give --opens and --closes, or --all-year, not both"),
]


def test_aid_window_refuses_a_day_no_year_has_and_changes_nothing(tmp_path):
    env = demo_env(tmp_path)
    assert unionbot("init-db", cwd=tmp_path, env=env).returncode == 0
    for options, reason in WINDOW_REFUSALS:
        refused = unionbot("aid-window", "jinqiu", *options, cwd=tmp_path, env=env)
        assert refused.returncode != 0, options
        assert only_line(refused.stderr).startswith(f"unionbot: {reason}"), refused.stderr
    assert rows(tmp_path, JINQIU_WINDOW) == [("07-01", "08-25")]
    assert rows(tmp_path, "SELECT count(*) FROM audit_log") == [(0,)]
    chatted = unionbot("chat", cwd=tmp_path, env=env, stdin="帮扶\n")
    assert "可以在线申请的帮扶项目" in chatted.stdout


def test_aid_window_changes_shows_and_audits_the_window(tmp_path):
    env = demo_env(tmp_path)
    moved = unionbot(
        "aid-window", "jinqiu", "--opens", "11-1", "--closes", "12/31", cwd=tmp_path, env=env
    )
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout == "jinqiu (金秋助学): 11-01 to 12-31 (was 07-01 to 08-25)\n"
    assert rows(tmp_path, JINQIU_WINDOW) == [("11-01", "12-31")]
    shown = unionbot("aid-window", "jinqiu", cwd=tmp_path, env=env)
    assert shown.stdout == "jinqiu (金秋助学): 11-01 to 12-31\n"
    opened = unionbot("aid-window", "jinqiu", "--all-year", cwd=tmp_path, env=env)
    assert opened.stdout == "jinqiu (金秋助学): all year (was 11-01 to 12-31)\n"
    assert rows(tmp_path, JINQIU_WINDOW) == [(None, None)]
    assert rows(tmp_path, "SELECT actor, action, subject, detail FROM audit_log") == [
        ("system", "edit", "jinqiu", "opens,closes"),
        ("system", "edit", "jinqiu", "opens,closes"),
    ]
    unknown = unionbot("aid-window", "nope", cwd=tmp_path, env=env)
    assert unknown.returncode != 0
    assert only_line(unknown.stderr).startswith("unionbot: no aid programme 'nope' (known: ")


# --- staff accounts -----------------------------------------------------------------------


def test_add_staff_creates_an_account_then_resets_its_password(tmp_path):
    env = demo_env(tmp_path)
    created = unionbot(
        "add-staff",
        "wang",
        "--name",
        "王芳",
        "--role",
        "admin",
        "--password",
        "first-pass-1",
        cwd=tmp_path,
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "staff account 'wang' ready (admin, 射阳县总工会)\n"
    query = "SELECT display_name, role, password_hash FROM staff_users WHERE username = 'wang'"
    [(name, role, first_hash)] = rows(tmp_path, query)
    assert (name, role) == ("王芳", "admin")
    assert check_password_hash(first_hash, "first-pass-1")

    # A forgotten password is reset without demoting the administrator.
    reset = unionbot("add-staff", "wang", "--password", "second-pass-2", cwd=tmp_path, env=env)
    assert reset.stdout == "staff account 'wang' ready (admin, 射阳县总工会)\n"
    [(name, role, second_hash)] = rows(tmp_path, query)
    assert (name, role) == ("王芳", "admin")
    assert check_password_hash(second_hash, "second-pass-2")
    assert not check_password_hash(second_hash, "first-pass-1")

    reviewer = unionbot("add-staff", "zhao", "--password", "third-pass-3", cwd=tmp_path, env=env)
    assert reviewer.stdout == "staff account 'zhao' ready (reviewer, 射阳县总工会)\n"
    assert rows(tmp_path, "SELECT display_name, role FROM staff_users WHERE username = 'zhao'") == [
        ("zhao", "reviewer")
    ]

    short = unionbot("add-staff", "li", "--password", "short", cwd=tmp_path, env=env)
    assert short.returncode != 0
    assert only_line(short.stderr) == "unionbot: password must be at least 10 characters"
    assert rows(tmp_path, "SELECT count(*) FROM staff_users WHERE username = 'li'") == [(0,)]


def test_add_staff_takes_every_role_and_an_organisation(tmp_path):
    env = demo_env(tmp_path)

    def add(name: str, *options: str):
        return unionbot(
            "add-staff", name, *options, "--password", "long-enough-1", cwd=tmp_path, env=env
        )

    assert add("li", "--role", "operator", "--org", "hede").returncode == 0
    made = add("sun", "--role", "viewer", "--org", "riders")
    assert made.stdout == "staff account 'sun' ready (viewer, 合德镇快递外卖骑手联合工会)\n"
    add("li")  # a password reset keeps the role and the organisation
    query = "SELECT username, role, org_code FROM staff_users ORDER BY username"
    assert rows(tmp_path, query)[-2:] == [("li", "operator", "hede"), ("sun", "viewer", "riders")]

    unknown = add("qian", "--org", "nowhere")
    assert unknown.returncode != 0
    assert only_line(unknown.stderr).startswith("unionbot: unknown organisation 'nowhere'; known: ")
    bad_role = add("qian", "--role", "root")
    assert bad_role.returncode != 0 and "'root' is not one of" in bad_role.stderr


# --- the outbox: drain and worker, against the fake WeChat over HTTP ------------------------


def fake_env(tmp_path, fake_server) -> dict[str, str]:
    """The demo, talking to the test session's fake WeChat instead of its own."""
    fake, url = fake_server
    return demo_env(
        tmp_path,
        UNIONBOT_WECHAT_API_BASE_URL=url + "/cgi-bin/",
        UNIONBOT_WECHAT_APP_ID=fake.app_id,
        UNIONBOT_WECHAT_APP_SECRET=fake.app_secret,
    )


def queue_notice(tmp_path, env: dict[str, str], openid: str, notice: str) -> None:
    """A worker who wrote in just now (so the 48-hour window is open) and a notice to them."""
    assert (
        unionbot("chat", "--openid", openid, cwd=tmp_path, env=env, stdin="你好\n").returncode == 0
    )
    engine = create_engine(env["UNIONBOT_DATABASE_URL"])
    with Session(engine) as session, session.begin():
        follower_id = session.scalars(select(Follower.id).where(Follower.openid == openid)).one()
        enqueue_notice(
            session,
            key=f"cli-{openid}",
            kind="reply",
            follower_id=follower_id,
            openid=openid,
            text=notice,
        )
    engine.dispose()


def sent_texts(fake) -> list[str]:
    return [c["json"]["text"]["content"] for c in fake.calls_to("message/custom/send", True)]


def test_drain_once_sends_what_is_due_and_says_how_many(tmp_path, fake, fake_server):
    env = fake_env(tmp_path, fake_server)
    queue_notice(tmp_path, env, "o_drain", "您的申请已受理")
    drained = unionbot("drain", "--once", cwd=tmp_path, env=env)
    assert drained.returncode == 0, drained.stderr
    assert drained.stdout == "drained 1 messages\n"
    assert sent_texts(fake) == ["您的申请已受理"]
    assert rows(tmp_path, "SELECT status FROM outbox WHERE idempotency_key = 'cli-o_drain'") == [
        ("sent",)
    ]
    again = unionbot("drain", "--once", cwd=tmp_path, env=env)
    assert again.stdout == "drained 0 messages\n"
    assert sent_texts(fake) == ["您的申请已受理"]


def test_worker_sends_queued_notices_and_hands_back_its_lease_when_stopped(
    tmp_path, fake, fake_server
):
    env = fake_env(tmp_path, fake_server)
    queue_notice(tmp_path, env, "o_worker", "比赛明天开始")
    worker = running(tmp_path, "worker", ready=lambda: bool(sent_texts(fake)), env=env)
    with worker as (process, output):
        pass  # stopped (SIGTERM) as soon as the notice reached WeChat
    assert process.returncode == 0, output
    started = re.search(r"unionbot worker (\S+) running; Ctrl-C to stop", output[0])
    assert started, output
    assert sent_texts(fake) == ["比赛明天开始"]
    [(holder, expires)] = rows(tmp_path, "SELECT holder, expires_at FROM leases")
    assert holder == started.group(1)
    assert dt.datetime.fromisoformat(expires) < dt.datetime.now(dt.UTC).replace(tzinfo=None)


def test_fake_wechat_issues_tokens_and_lists_its_calls(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ready = answering(base + "/_fake/calls")
    fake_wechat = running(tmp_path, "fake-wechat", "--port", str(port), ready=ready)
    with fake_wechat as (_, output):
        asked = {"grant_type": "client_credential", "appid": "wxd0000000000demo"}
        token = requests.get(
            base + "/cgi-bin/token", params={**asked, "secret": "demo-secret"}, timeout=5
        ).json()
        assert token["access_token"] and token["expires_in"] == 7200
        wrong = requests.get(
            base + "/cgi-bin/token", params={**asked, "secret": "guess"}, timeout=5
        ).json()
        assert wrong["errcode"] == 40125
        calls = requests.get(base + "/_fake/calls", timeout=5).json()["calls"]
        assert [(c["path"], c["errcode"]) for c in calls] == [("token", 0), ("token", 40125)]
    assert f"fake WeChat API at {base}/cgi-bin/ (calls: /_fake/calls)" in output[0]
