"""Settings: defaults, then a TOML file, then ``UNIONBOT_<SECTION>_<KEY>`` variables.

This module declares the sections and their keys (``[outbox]``, the largest, in
:mod:`bot.config_outbox`); :mod:`bot.config_values` turns raw TOML and
environment values into them.

Every key is declared once, as a typed dataclass field; loading, environment
overrides and validation are driven by those declarations, so a new key is a
new field and nothing else. A bad value raises :class:`ConfigError`, whose
message names the key in one line; the CLI prints it instead of a traceback.
Fields marked ``secret`` never appear in ``repr`` and therefore never in logs.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config_campaigns import CampaignSettings
from bot.config_outbox import OutboxSettings
from bot.config_values import ENV_PREFIX, ConfigError, build_section, merge, read_toml, secret
from models.crypto import Keyring
from models.office_hours import OfficeHours, parse_hours

WECHAT_API_BASE = "https://api.weixin.qq.com/cgi-bin/"
# WeChat's console only accepts 3-32 letters and digits as the callback token.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9]{3,32}$")


def _decode_aes_key(value: str) -> bytes:
    """Return the 32-byte key behind WeChat's 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(value + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("is not base64") from exc
    if len(value) != 43 or len(key) != 32:
        raise ValueError("must be the 43-character EncodingAESKey from the WeChat console")
    return key


def decode_data_key(value: str) -> bytes:
    """Return the 32-byte field-encryption key given as URL-safe base64."""
    try:
        key = base64.urlsafe_b64decode(value.encode())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("is not base64") from exc
    if len(key) != 32:
        raise ValueError("must be 32 bytes of URL-safe base64 (unionbot gen-key prints one)")
    return key


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str = ""
    app_secret: str = secret()
    token: str = secret()
    encoding_aes_key: str = secret()
    api_base_url: str = WECHAT_API_BASE
    account_type: str = "service"
    require_encryption: bool = False
    timestamp_window_seconds: int = 300
    max_body_bytes: int = 64 * 1024
    token_endpoint: str = "stable"  # noqa: S105 (a setting name, not a secret)
    token_refresh_margin_seconds: int = 300
    request_timeout_seconds: float = 5.0
    proxy_url: str = secret()

    def validate(self) -> None:
        if not self.token:
            raise ConfigError("wechat.token", "required (the Token set in the WeChat console)")
        if not TOKEN_PATTERN.match(self.token):
            raise ConfigError("wechat.token", "must be 3 to 32 letters or digits")
        if self.encoding_aes_key:
            try:
                _decode_aes_key(self.encoding_aes_key)
            except ValueError as exc:
                raise ConfigError("wechat.encoding_aes_key", str(exc)) from None
            if not self.app_id:
                raise ConfigError("wechat.app_id", "required when encoding_aes_key is set")
        if self.require_encryption and not self.encoding_aes_key:
            raise ConfigError("wechat.require_encryption", "needs wechat.encoding_aes_key")
        if not re.match(r"^https?://[^/\s]+", self.api_base_url):
            raise ConfigError("wechat.api_base_url", "must be an http:// or https:// URL")
        if self.account_type not in ("service", "subscription"):
            raise ConfigError("wechat.account_type", "must be 'service' or 'subscription'")
        if self.timestamp_window_seconds <= 0:
            raise ConfigError("wechat.timestamp_window_seconds", "must be a positive number")
        if self.max_body_bytes < 1024:
            raise ConfigError("wechat.max_body_bytes", "must be at least 1024")
        if self.token_endpoint not in ("stable", "classic"):
            raise ConfigError("wechat.token_endpoint", "must be 'stable' or 'classic'")
        if not 0 <= self.token_refresh_margin_seconds < 7000:
            raise ConfigError("wechat.token_refresh_margin_seconds", "must be 0 to 6999")
        if self.proxy_url and not re.match(r"^https?://", self.proxy_url):
            raise ConfigError("wechat.proxy_url", "must be an http:// or https:// URL")
        if self.request_timeout_seconds <= 0:
            raise ConfigError("wechat.request_timeout_seconds", "must be positive")

    @property
    def safe_mode(self) -> bool:
        return bool(self.encoding_aes_key)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///unionbot.db"

    def validate(self) -> None:
        try:
            url = make_url(self.url)
        except ArgumentError:
            raise ConfigError("database.url", "is not a database URL") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigError("database.url", "must be sqlite:/// or postgresql+psycopg://")

    def __repr__(self) -> str:
        shown = make_url(self.url).render_as_string(hide_password=True)
        return f"DatabaseSettings(url={shown!r})"


@dataclass(frozen=True)
class SecuritySettings:
    secret_key: str = secret()
    data_key: str = secret()
    retired_data_keys: str = secret()
    index_key: str = secret()

    def validate(self) -> None:
        if self.secret_key and len(self.secret_key) < 16:
            raise ConfigError("security.secret_key", "must be at least 16 characters")
        for name in ("data_key", "retired_data_keys", "index_key"):
            for value in self._keys(name):
                try:
                    decode_data_key(value)
                except ValueError as exc:
                    raise ConfigError(f"security.{name}", str(exc)) from None

    def _keys(self, name: str) -> list[str]:
        return [part.strip() for part in getattr(self, name).split(",") if part.strip()]

    def keyring(self) -> Keyring:
        """The field-encryption keys; ``retired_data_keys`` is a comma-separated list."""
        return Keyring(
            current=decode_data_key(self.data_key),
            retired=tuple(decode_data_key(k) for k in self._keys("retired_data_keys")),
            index_key=decode_data_key(self.index_key) if self.index_key else b"",
        )


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""
    threads: int = 8
    # Deliveries answered "success" before their reply was stored wait here (bot.parked).
    parked_dir: str = "parked"

    def validate(self) -> None:
        if not self.parked_dir:
            raise ConfigError("server.parked_dir", "required")
        if not 0 < self.port < 65536:
            raise ConfigError("server.port", "must be between 1 and 65535")
        if self.public_base_url and not re.match(r"^https?://", self.public_base_url):
            raise ConfigError("server.public_base_url", "must start with http:// or https://")
        if self.threads < 1:
            raise ConfigError("server.threads", "must be at least 1")


@dataclass(frozen=True)
class RedisSettings:
    url: str = secret()

    def validate(self) -> None:
        if self.url and not re.match(r"^rediss?://", self.url):
            raise ConfigError("redis.url", "must be a redis:// or rediss:// URL")


@dataclass(frozen=True)
class SchedulerSettings:
    enabled: bool = True
    leader_lease_seconds: int = 15

    def validate(self) -> None:
        if self.leader_lease_seconds < 3:
            raise ConfigError("scheduler.leader_lease_seconds", "must be at least 3")


@dataclass(frozen=True)
class UnionSettings:
    name: str = "射阳县总工会"
    hotline: str = "12351"
    provincial_hotline: str = "025-12351"
    # The labour inspectorate's complaint line (人社 12333), for wage arrears and dismissal.
    labour_inspection: str = "12333"
    # Where workers are sent in person, and how to reach it: shown wherever the bot
    # sends someone to the office, and the answer to "在哪" / "电话" / "周六开门吗".
    office: str = "县总工会职工服务中心"
    address: str = "射阳县合德镇县工人文化宫一楼"
    phone: str = "0515-82312351"
    # Read as words by workers and parsed for "周六开门吗" and call-back times
    # (models.office_hours): name the days and give the times.
    hours: str = "周一至周五 8:30-12:00、14:00-17:30，节假日除外"
    reference_prefix: str = "SY"

    def validate(self) -> None:
        if not re.fullmatch(r"[A-Z]{1,8}", self.reference_prefix):
            raise ConfigError("union.reference_prefix", "must be 1 to 8 capital letters")
        try:
            parse_hours(self.hours)
        except ValueError as error:
            raise ConfigError("union.hours", str(error)) from None

    def office_hours(self) -> OfficeHours:
        return parse_hours(self.hours)


@dataclass(frozen=True)
class FormsSettings:
    idle_minutes: int = 30
    draft_retention_days: int = 30
    max_proofs: int = 9
    double_tap_seconds: float = 3.0

    def validate(self) -> None:
        for name in ("idle_minutes", "draft_retention_days", "max_proofs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"forms.{name}", "must be at least 1")
        if not 0 <= self.double_tap_seconds <= 60:
            raise ConfigError("forms.double_tap_seconds", "must be between 0 and 60")


@dataclass(frozen=True)
class CompetitionSettings:
    reminder_hours: int = 24

    def validate(self) -> None:
        if not 1 <= self.reminder_hours <= 24 * 14:
            raise ConfigError("competitions.reminder_hours", "must be between 1 and 336")


@dataclass(frozen=True)
class AidSettings:
    dibao_monthly_yuan: float = 900.0
    relative_multiplier: float = 2.0
    accident_cost_ratio: float = 0.8

    def validate(self) -> None:
        if self.dibao_monthly_yuan <= 0:
            raise ConfigError("aid.dibao_monthly_yuan", "must be above 0")
        if self.relative_multiplier < 1:
            raise ConfigError("aid.relative_multiplier", "must be at least 1")
        if not 0 < self.accident_cost_ratio <= 1:
            raise ConfigError("aid.accident_cost_ratio", "must be above 0 and at most 1")


@dataclass(frozen=True)
class PrivacySettings:
    transcript_retention_days: int = 180

    def validate(self) -> None:
        if self.transcript_retention_days < 1:
            raise ConfigError("privacy.transcript_retention_days", "must be at least 1")


@dataclass(frozen=True)
class AdminSettings:
    """Staff sign-in: how long a session lasts and when failed attempts lock."""

    idle_minutes: int = 30
    session_hours: int = 12
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    address_max_failures: int = 20
    address_window_minutes: int = 15
    # Reverse proxies in front of the app that append to X-Forwarded-For (nginx: 1). The
    # address limit counts the address the outermost trusted proxy saw; 0 trusts none.
    proxy_hops: int = 0

    def validate(self) -> None:
        for name in (
            "idle_minutes",
            "session_hours",
            "max_failed_logins",
            "lockout_minutes",
            "address_max_failures",
            "address_window_minutes",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"admin.{name}", "must be at least 1")
        if not 0 <= self.proxy_hops <= 5:
            raise ConfigError("admin.proxy_hops", "must be 0 to 5")
        if self.idle_minutes > self.session_hours * 60:
            raise ConfigError("admin.idle_minutes", "must not exceed admin.session_hours")


@dataclass(frozen=True)
class DemoSettings:
    enabled: bool = False
    admin_password: str = secret("unionbot-demo")


SECTIONS: dict[str, type] = {
    "wechat": WeChatSettings,
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "security": SecuritySettings,
    "server": ServerSettings,
    "scheduler": SchedulerSettings,
    "outbox": OutboxSettings,
    "union": UnionSettings,
    "privacy": PrivacySettings,
    "forms": FormsSettings,
    "aid": AidSettings,
    "competitions": CompetitionSettings,
    "campaigns": CampaignSettings,
    "admin": AdminSettings,
    "demo": DemoSettings,
}


@dataclass(frozen=True)
class Settings:
    wechat: WeChatSettings
    database: DatabaseSettings
    redis: RedisSettings
    security: SecuritySettings
    server: ServerSettings
    scheduler: SchedulerSettings
    outbox: OutboxSettings
    union: UnionSettings
    privacy: PrivacySettings
    forms: FormsSettings
    aid: AidSettings
    competitions: CompetitionSettings
    campaigns: CampaignSettings
    admin: AdminSettings
    demo: DemoSettings
    source: str = "built-in demo defaults"

    @property
    def base_url(self) -> str:
        if self.server.public_base_url:
            return self.server.public_base_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"


# With no config file at all, unionbot runs as a self-contained demo: a fixed
# callback token (the terminal simulator and a curl user need to know it) and a
# session key that only has to live as long as the process.
# The demo's data key is public on purpose: demo data is fictional, and a real
# deployment (demo.enabled = false) must bring its own key or refuses to start.
DEMO_DATA_KEY = base64.urlsafe_b64encode(b"unionbot demo key: not a secret!").decode()
DEMO_DEFAULTS: dict[str, dict[str, Any]] = {
    "wechat": {"app_id": "wxd0000000000demo", "app_secret": "demo-secret", "token": "unionbotdemo"},
    "demo": {"enabled": True},
}


def load_settings(
    path: str | os.PathLike | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Load settings from ``path`` (or ``$UNIONBOT_CONFIG``), the environment and ``overrides``.

    With neither a path nor ``$UNIONBOT_CONFIG`` the demo defaults apply.
    """
    env = os.environ if env is None else env
    path = path or env.get(f"{ENV_PREFIX}CONFIG") or None
    if path:
        values = read_toml(Path(path))
        source = str(path)
    else:
        values = DEMO_DEFAULTS
        source = "built-in demo defaults"
    values = merge(merge({}, values), overrides or {})
    for section in values:
        if section not in SECTIONS:
            raise ConfigError(section, "unknown section")
    built = {
        name: build_section(name, cls, values.get(name, {}), env) for name, cls in SECTIONS.items()
    }
    security = built["security"]
    if built["demo"].enabled:
        built["security"] = dataclasses.replace(
            security,
            secret_key=security.secret_key or secrets.token_urlsafe(32),
            data_key=security.data_key or DEMO_DATA_KEY,
        )
    elif not security.secret_key:
        raise ConfigError("security.secret_key", "required, at least 16 characters")
    elif not security.data_key:
        raise ConfigError(
            "security.data_key",
            "required: ID numbers, phone numbers and health data are encrypted with it "
            "(unionbot gen-key prints one)",
        )
    return Settings(**built, source=source)
