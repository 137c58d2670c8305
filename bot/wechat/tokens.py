"""The shared access token of an AppID: in the database or in Redis, refreshed under a lock.

Every process and machine shares one token. Refreshing takes a lock (a row lock
on PostgreSQL, the write lock on SQLite, ``SET NX`` in Redis) so exactly one
process fetches, and the others wait and read the new value. When WeChat says a
token is invalid (40001), only *that* token is discarded (compare-and-set), so a
process with a stale view cannot throw away a fresh token another process just
fetched. The token endpoint is an API like any other: its circuit breaker
(``token``) stops every drainer from hammering it during an outage.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.config import WeChatSettings
from bot.wechat.errors import ApiError, TokenUnavailable
from models.base import utcnow
from models.coordination import AccessToken
from models.database import serialised

if TYPE_CHECKING:
    from bot.breaker import Breakers, Ticket

log = logging.getLogger(__name__)

FETCH_ATTEMPTS = 3
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# requests' default: connections kept per host. A pool smaller than the threads
# sharing it opens and drops a connection per call beyond it ("pool is full").
DEFAULT_POOL = 10


def base_url(settings: WeChatSettings) -> str:
    return settings.api_base_url.rstrip("/") + "/"


def http_session(settings: WeChatSettings, pool_size: int = DEFAULT_POOL) -> requests.Session:
    """An HTTP session for WeChat's API that goes through ``proxy_url`` or nowhere.

    Proxies come from the config, not the environment: reading the environment
    on every request costs a third of a drainer's time per message, and the
    egress to WeChat (whose IP whitelist it must match) deserves to be explicit.
    ``pool_size`` is the number of threads that call through it at once.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(pool_maxsize=max(pool_size, DEFAULT_POOL))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if settings.proxy_url:
        session.proxies = {"http": settings.proxy_url, "https": settings.proxy_url}
    return session


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: dt.datetime


class TokenStore(ABC):
    """The shared access token of one AppID; subclasses say where it is kept and locked.

    Each process also keeps its own copy, so a busy drainer does not read the
    shared store on every call.
    """

    def __init__(self, settings: WeChatSettings):
        self.settings = settings
        self.http = http_session(settings)
        self.fetches = 0  # how many times this store called the token endpoint
        self.breakers: Breakers | None = None  # set by bot.wechat.api.connect
        self._cached: Token | None = None
        self._lock = threading.Lock()
        self._calls = threading.local()  # per refresh: whether each call met an outage

    def get(self) -> str:
        """Return a token that is valid for at least the refresh margin."""
        cached = self._cached
        if cached is not None and self._fresh(cached):
            return cached.value
        with self._lock:
            stored = self._load()
            if stored is not None and self._fresh(stored):
                self._cached = stored
                return stored.value
            return self.refresh()

    def refresh(self) -> str:
        """Fetch a new token unless another process did while we waited for the lock."""
        ticket = self.breakers.admit("token") if self.breakers else None
        self._calls.outages = []
        try:
            token = self._refresh_locked()
        finally:
            # Told only now: on SQLite the breaker's writes would wait for the lock held above.
            self._settle(ticket, self._calls.outages)
        self._cached = token
        return token.value

    def invalidate(self, token: str) -> None:
        """Discard ``token`` if it is still the stored one (compare-and-set)."""
        cached = self._cached
        if cached is not None and cached.value == token:
            self._cached = None
        self._discard(token)

    def _fresh(self, token: Token) -> bool:
        margin = dt.timedelta(seconds=self.settings.token_refresh_margin_seconds)
        return bool(token.value) and token.expires_at - margin > utcnow()

    def _fetched(self) -> Token:
        value, expires_in = self._fetch()
        return Token(value, utcnow() + dt.timedelta(seconds=expires_in))

    @abstractmethod
    def _load(self) -> Token | None:
        """Read the shared token, if any."""

    @abstractmethod
    def _refresh_locked(self) -> Token:
        """Under the shared lock: return the stored token if fresh, else fetch and store one."""

    @abstractmethod
    def _discard(self, token: str) -> None:
        """Expire the shared token if it is still ``token``."""

    def _fetch(self) -> tuple[str, int]:
        """Call the token endpoint, a bounded number of times: never a loop."""
        error: ApiError | None = None
        for attempt in range(FETCH_ATTEMPTS):
            if attempt:
                time.sleep(0.2 * 2**attempt)
            self.fetches += 1
            try:
                result = self._call_endpoint()
            except requests.RequestException as exc:
                error = TokenUnavailable(None, f"token endpoint unreachable: {type(exc).__name__}")
                self._note(error)
                continue
            if result.get("access_token"):
                self._note(None)
                return result["access_token"], int(result.get("expires_in", 7200))
            error = TokenUnavailable(result.get("errcode"), str(result.get("errmsg", result)))
            self._note(error)
            if result.get("errcode") in (
                40013,
                40125,
                40164,
            ):  # wrong AppID/secret, IP not whitelisted
                break
        log.error("access token unavailable: %s", error)
        raise error

    def _note(self, error: ApiError | None) -> None:
        # An answer, even a refusal, shows the endpoint is up.
        outages = getattr(self._calls, "outages", None)
        if outages is not None:
            outages.append(error is not None and error.outage)

    def _settle(self, ticket: Ticket | None, outages: list[bool]) -> None:
        if ticket is None:
            return
        if not outages:  # another process had fetched it: no call made
            self.breakers.cancelled(ticket)
        elif ticket.probe:  # the probe's last call decides
            (self.breakers.failed if outages[-1] else self.breakers.succeeded)(ticket)
        else:
            for outage in outages:
                (self.breakers.failed if outage else self.breakers.succeeded)(ticket)

    def _call_endpoint(self) -> dict[str, Any]:
        s = self.settings
        credentials = {"grant_type": "client_credential", "appid": s.app_id, "secret": s.app_secret}
        if s.token_endpoint == "stable":  # noqa: S105 (a setting, not a secret)
            response = self.http.post(
                base_url(s) + "stable_token",
                json={**credentials, "force_refresh": False},
                timeout=s.request_timeout_seconds,
            )
        else:
            response = self.http.get(
                base_url(s) + "token", params=credentials, timeout=s.request_timeout_seconds
            )
        response.raise_for_status()
        return response.json()


class DatabaseTokenStore(TokenStore):
    """The token in the ``access_tokens`` table; refreshes serialise on its row."""

    def __init__(self, session_factory: sessionmaker[Session], settings: WeChatSettings):
        super().__init__(settings)
        self.session_factory = session_factory

    def _load(self) -> Token | None:
        with self.session_factory() as session:
            row = session.get(AccessToken, self.settings.app_id)
            return Token(row.token, row.expires_at) if row is not None else None

    def _refresh_locked(self) -> Token:
        with serialised(self.session_factory) as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(
                insert(AccessToken)
                .values(app_id=self.settings.app_id, token="", expires_at=EPOCH, fetched_at=EPOCH)
                .on_conflict_do_nothing(index_elements=["app_id"])
            )
            row = session.get(AccessToken, self.settings.app_id, with_for_update=True)
            session.refresh(row)  # the row may have changed while we waited for the lock
            current = Token(row.token, row.expires_at)
            if self._fresh(current):
                return current
            fetched = self._fetched()
            row.token, row.expires_at, row.fetched_at = fetched.value, fetched.expires_at, utcnow()
            return fetched

    def _discard(self, token: str) -> None:
        with self.session_factory.begin() as session:
            session.query(AccessToken).filter(
                AccessToken.app_id == self.settings.app_id, AccessToken.token == token
            ).update({AccessToken.expires_at: EPOCH})


# Delete a key only if it still holds what we put there (lock release, token CAS).
COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisTokenStore(TokenStore):
    """The token in Redis; refreshes serialise on a Redis lock (``SET NX PX``).

    A process that does not get the lock polls for the new token every 100 ms
    for up to 3 s (as WxJava does), then tries to take the lock itself.
    """

    LOCK_MS = 10_000
    WAIT_SECONDS = 3.0

    def __init__(self, redis_url: str, settings: WeChatSettings):
        super().__init__(settings)
        import redis

        self.redis = redis.Redis.from_url(redis_url, decode_responses=True)
        self.key = f"unionbot:access_token:{settings.app_id}"
        self.lock_key = f"unionbot:access_token_lock:{settings.app_id}"
        self.compare_and_delete = self.redis.register_script(COMPARE_AND_DELETE)

    def _load(self) -> Token | None:
        raw = self.redis.get(self.key)
        if not raw:
            return None
        data = json.loads(raw)
        return Token(data["token"], dt.datetime.fromisoformat(data["expires_at"]))

    def _refresh_locked(self) -> Token:
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + self.WAIT_SECONDS
        while not self.redis.set(self.lock_key, holder, nx=True, px=self.LOCK_MS):
            stored = self._load()
            if stored is not None and self._fresh(stored):
                return stored
            if time.monotonic() > deadline:
                raise TokenUnavailable(None, "another process holds the token lock too long")
            time.sleep(0.1)
        try:
            stored = self._load()
            if stored is not None and self._fresh(stored):
                return stored
            fetched = self._fetched()
            value = json.dumps(
                {"token": fetched.value, "expires_at": fetched.expires_at.isoformat()}
            )
            ttl = max(1, int((fetched.expires_at - utcnow()).total_seconds()))
            self.redis.set(self.key, value, ex=ttl)
            return fetched
        finally:
            self.compare_and_delete(keys=[self.lock_key], args=[holder])

    def _discard(self, token: str) -> None:
        raw = self.redis.get(self.key)
        if raw and json.loads(raw)["token"] == token:
            self.compare_and_delete(keys=[self.key], args=[raw])
