"""The ``unionbot`` command as a new user runs it: real processes, real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.config import load_settings
from bot.simulator import HttpTransport, Simulator
from tests.conftest import AES_KEY, free_port


def unionbot(*args: str, cwd, env=None, stdin: str = "", timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


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


@contextmanager
def serving(tmp_path, *args: str, env=None) -> Iterator[tuple[str, list[str]]]:
    """Run ``unionbot serve`` until the block ends; its output lands in the yielded list."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), *args],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("serve exited early:\n" + process.stdout.read())
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("serve did not become healthy")
        output: list[str] = []
        yield base, output
    finally:
        process.terminate()
        output.append(process.communicate(timeout=10)[0])


def test_help_lists_every_command(tmp_path):
    out = unionbot("--help", cwd=tmp_path).stdout
    for command in ("serve", "init-db", "chat", "add-staff", "gen-key"):
        assert command in out


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
