"""Configuration: file, environment, validation in one line, secrets kept out of sight."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import SECTIONS, ConfigError, load_settings
from tests.conftest import AES_KEY

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


VALID = """
[wechat]
app_id = "wx1234567890abcdef"
token = "filetoken"
[security]
secret_key = "0123456789abcdef0123"
data_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
"""


def test_no_config_means_the_demo():
    settings = load_settings(env={})
    assert settings.demo.enabled
    assert settings.database.url == "sqlite:///unionbot.db"
    assert len(settings.security.secret_key) >= 16


def test_file_values_and_environment_overrides(tmp_path):
    path = write(tmp_path, VALID)
    env = {"UNIONBOT_WECHAT_TOKEN": "envtoken", "UNIONBOT_SERVER_PORT": "9001"}
    settings = load_settings(path, env=env)
    assert settings.wechat.token == "envtoken"
    assert settings.wechat.app_id == "wx1234567890abcdef"
    assert settings.server.port == 9001
    assert not settings.demo.enabled


def test_config_path_from_the_environment(tmp_path):
    path = write(tmp_path, VALID)
    assert load_settings(env={"UNIONBOT_CONFIG": str(path)}).wechat.token == "filetoken"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"UNIONBOT_WECHAT_TOKEN": ""}, "wechat.token: required"),
        ({"UNIONBOT_WECHAT_TOKEN": "bad token!"}, "wechat.token: must be 3 to 32"),
        ({"UNIONBOT_WECHAT_ENCODING_AES_KEY": "short"}, "wechat.encoding_aes_key"),
        ({"UNIONBOT_SERVER_PORT": "eighty"}, "server.port: must be a whole number"),
        ({"UNIONBOT_SERVER_PORT": "70000"}, "server.port: must be between"),
        ({"UNIONBOT_SCHEDULER_ENABLED": "maybe"}, "scheduler.enabled: must be true or false"),
        ({"UNIONBOT_DATABASE_URL": "mysql://x/y"}, "database.url"),
        ({"UNIONBOT_SECURITY_SECRET_KEY": ""}, "security.secret_key: required"),
        ({"UNIONBOT_SECURITY_DATA_KEY": "abc"}, "security.data_key"),
        ({"UNIONBOT_SECURITY_DATA_KEY": ""}, "security.data_key: required"),
        ({"UNIONBOT_SECURITY_RETIRED_DATA_KEYS": "QUJD"}, "security.retired_data_keys"),
        ({"UNIONBOT_WECHAT_ACCOUNT_TYPE": "enterprise"}, "wechat.account_type"),
        ({"UNIONBOT_WECHAT_REQUIRE_ENCRYPTION": "true"}, "wechat.require_encryption"),
    ],
)
def test_bad_values_name_the_key(tmp_path, env, message):
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, VALID), env=env)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_unknown_keys_and_sections_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"wechat\.tokne: unknown key"):
        load_settings(write(tmp_path, VALID.replace("token =", "tokne =")), env={})
    with pytest.raises(ConfigError, match="mail: unknown section"):
        load_settings(write(tmp_path, VALID + "\n[mail]\nhost = 'x'\n"), env={})


def test_invalid_toml_and_missing_file_are_reported(tmp_path):
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(write(tmp_path, "[wechat\n"), env={})
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "missing.toml", env={})


def test_secrets_never_appear_in_repr(tmp_path):
    env = {
        "UNIONBOT_WECHAT_ENCODING_AES_KEY": AES_KEY,
        "UNIONBOT_WECHAT_APP_SECRET": "appsecret-xyz",
        "UNIONBOT_DATABASE_URL": "postgresql+psycopg://u:dbpass-xyz@h/db",
    }
    shown = repr(load_settings(write(tmp_path, VALID), env=env))
    secrets = (
        "filetoken",
        AES_KEY,
        "appsecret-xyz",
        "dbpass-xyz",
        "0123456789abcdef0123",
        "AAECAw",
    )
    for secret in secrets:
        assert secret not in shown


def test_the_example_documents_exactly_the_known_keys():
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    declared = {name: {f.name for f in dataclasses.fields(cls)} for name, cls in SECTIONS.items()}
    assert {name: set(values) for name, values in example.items()} == declared


def test_cli_reports_a_bad_config_in_one_line_without_traceback(tmp_path):
    path = write(tmp_path, VALID.replace('token = "filetoken"', 'token = "x"'))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "init-db", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "unionbot: config error: wechat.token: must be 3 to 32 letters or digits"
    )
