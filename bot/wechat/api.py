"""WeChat's API: the calls unionbot makes, with a shared token and a breaker per API.

The access token is shared by every process (:mod:`bot.wechat.tokens`). Each
call goes through its API's circuit breaker (:mod:`bot.breaker`): during an
outage, all drainers together make a few probe calls instead of thousands.

wechatpy's client does the API calls, with three of its traps avoided: its
token URL ignores the base URL (we fetch tokens ourselves), its automatic
retry on token errors recurses without bound (``auto_retry=False``; we retry
once), and its tag mass send uses the obsolete ``group_id`` (we post
``filter.tag_id`` ourselves).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import requests
from sqlalchemy.orm import Session, sessionmaker
from urllib3.exceptions import NewConnectionError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.breaker import Breakers, Ticket
from bot.config import Settings, WeChatSettings
from bot.wechat.errors import ApiError, BreakerOpen, TokenUnavailable
from bot.wechat.tokens import (
    DEFAULT_POOL,
    DatabaseTokenStore,
    RedisTokenStore,
    TokenStore,
    base_url,
    http_session,
)
from models.base import utcnow

__all__ = [
    "ApiError",
    "BreakerOpen",
    "DatabaseTokenStore",
    "RedisTokenStore",
    "TokenStore",
    "TokenUnavailable",
    "WeChatApi",
    "connect",
]

TOKEN_ERRORS = frozenset({40001, 40014, 42001})


def maybe_delivered(exc: requests.RequestException) -> bool:
    """Whether WeChat may have acted on a request that got no answer.

    A read timeout or a connection cut while waiting for the answer leaves it
    open; a refused or timed-out connection means nothing was sent.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, NewConnectionError)
    return False


class _Client(WeChatClient):
    """wechatpy's client with our token store and base URL; remembers the token each call used."""

    def __init__(self, settings: WeChatSettings, store: TokenStore, pool_size: int):
        super().__init__(
            settings.app_id,
            settings.app_secret,
            timeout=settings.request_timeout_seconds,
            auto_retry=False,
        )
        self.API_BASE_URL = base_url(settings)
        self._http = http_session(settings, pool_size)
        self.store = store
        self.used = threading.local()

    @property
    def access_token(self) -> str:
        self.used.token = self.store.get()
        return self.used.token

    def fetch_access_token(self) -> dict:
        return {"access_token": self.store.refresh()}


class WeChatApi:
    """The calls unionbot makes, each retried once with a new token on a token error."""

    def __init__(
        self,
        settings: WeChatSettings,
        store: TokenStore,
        *,
        pool_size: int = DEFAULT_POOL,
        breakers: Breakers | None = None,
    ):
        self.client = _Client(settings, store, pool_size)
        self.store = store
        self.breakers = breakers

    def close(self) -> None:
        """Close the HTTP connections (a process that makes many clients, like a benchmark)."""
        self.client._http.close()
        self.store.http.close()

    def _call(self, api: str | None, fn):
        """Call ``fn`` through the breaker of ``api`` (None: no breaker)."""
        ticket = self.breakers.admit(api) if self.breakers and api else None
        try:
            result = self._with_token(fn)
        except (TokenUnavailable, BreakerOpen):
            self._settle(ticket, None)  # no token, no call: nothing learnt about this API
            raise
        except ApiError as exc:
            self._settle(ticket, not exc.outage)
            raise
        except BaseException:
            self._settle(ticket, None)
            raise
        self._settle(ticket, True)
        return result

    def _settle(self, ticket: Ticket | None, answered: bool | None) -> None:
        if ticket is None:
            return
        if answered is None:
            self.breakers.cancelled(ticket)
        elif answered:
            self.breakers.succeeded(ticket)
        else:
            self.breakers.failed(ticket)

    def _with_token(self, fn):
        for attempt in (1, 2):
            try:
                return fn()
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_ERRORS and attempt == 1:
                    self.store.invalidate(self.client.used.token)
                    continue
                code = exc.errcode if exc.errcode is not None else None
                status = getattr(exc.response, "status_code", "")
                message = exc.errmsg or f"HTTP error {status}"
                # A gateway that timed out may have passed the request on.
                raise ApiError(code, str(message), uncertain=status == 504) from None
            except requests.RequestException as exc:
                raise ApiError(
                    None, f"network error: {type(exc).__name__}", uncertain=maybe_delivered(exc)
                ) from None
        raise AssertionError("unreachable")

    def send_text(self, openid: str, content: str) -> dict:
        """Customer-service text message (客服消息)."""
        return self._call("custom", lambda: self.client.message.send_text(openid, content))

    def send_template(self, openid: str, template_id: str, data: dict, url: str | None) -> dict:
        """Template message (模板消息), service accounts only."""
        return self._call(
            "template", lambda: self.client.message.send_template(openid, template_id, data, url)
        )

    def send_subscribe(self, openid: str, template_id: str, data: dict, page: str | None) -> dict:
        """Subscription notice (订阅通知) to a worker who accepted the template."""
        body = {"touser": openid, "template_id": template_id, "data": data}
        if page:
            body["page"] = page
        return self._call(
            "subscribe", lambda: self.client.post("message/subscribe/bizsend", data=body)
        )

    def post(self, api: str | None, path: str, body: dict) -> dict:
        """POST ``body`` to ``path`` through ``api``'s breaker (None: none), e.g. a mass
        send that bot.mass_send built, or a tag's followers (bot.campaign_tags)."""
        return self._call(api, lambda: self.client.post(path, data=body))

    def download_media(self, media_id: str) -> tuple[bytes, str]:
        """Fetch a temporary media file (valid for 3 days after the worker sent it)."""

        def fetch():
            # wechatpy raises for a JSON error body and hands back the response otherwise.
            response = self.client.media.download(media_id)
            content_type = response.headers.get("Content-Type", "").split(";")[0]
            return response.content, content_type or "application/octet-stream"

        return self._call("media", fetch)

    def create_menu(self, menu: dict) -> dict:
        return self._call(None, lambda: self.client.menu.create(menu))


def connect(
    settings: Settings,
    session_factory: sessionmaker[Session],
    *,
    clock: Callable[[], dt.datetime] = utcnow,
) -> WeChatApi:
    """The API client of this deployment: its token shared through Redis or the database, its
    breakers through the database, an HTTP pool as large as the drainer's send threads."""
    if settings.redis.url:
        store: TokenStore = RedisTokenStore(settings.redis.url, settings.wechat)
    else:
        store = DatabaseTokenStore(session_factory, settings.wechat)
    breakers = None
    if settings.outbox.breaker_failures:
        breakers = Breakers(session_factory, settings, clock=clock)
        store.breakers = breakers
    return WeChatApi(
        settings.wechat, store, pool_size=settings.outbox.send_concurrency, breakers=breakers
    )
