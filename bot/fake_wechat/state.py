"""The fake's memory: tokens, users, templates, menus, mass jobs, injected faults and a call log.

Rules follow WeChat's documentation for official accounts:
https://developers.weixin.qq.com/doc/offiaccount/en/Getting_Started/Global_Return_Code.html
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TOKEN_LIFETIME = 7200
MASS_PER_USER_PER_MONTH = 4


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str, **extra: Any):
        super().__init__(errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        self.extra = extra


@dataclass
class Fault:
    """An injected failure for one API path ('*' = every path)."""

    path: str
    errcode: int | None = None  # answer with this errcode
    http_status: int | None = None  # or fail at the HTTP level (an outage)
    latency_ms: int = 0
    times: int = 1  # how many calls it affects; -1 = until cleared


@dataclass
class User:
    openid: str
    subscribed: bool = True
    last_interaction: float | None = None  # None: unknown to the fake, window not enforced
    custom_in_window: int = 0
    mass_received: dict[str, int] = field(default_factory=dict)  # "YYYY-MM" -> count


class FakeWeChat:
    """Thread-safe state of one fake official account."""

    def __init__(self, app_id: str, app_secret: str, *, custom_window_budget: int = 5):
        self.app_id = app_id
        self.app_secret = app_secret
        self.custom_window_budget = custom_window_budget
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.tokens: dict[str, float] = {}  # token -> expiry
            self.classic_token: str | None = None
            self.stable_token: str | None = None
            self.users: dict[str, User] = {}
            self.templates: set[str] = {"TPL_NOTICE"}
            self.subscribe_templates: set[str] = {"SUB_NOTICE"}
            self.refused: set[tuple[str, str]] = set()  # (openid, template) the worker turned off
            self.expired_media: set[str] = set()
            self.menu: dict | None = None
            self.tags: dict[int, str] = {2: "星标组"}
            self.tag_members: dict[int, set[str]] = {}
            self.mass_jobs: dict[int, dict] = {}
            self.client_msg_ids: dict[str, int] = {}
            self.faults: list[Fault] = []
            self.calls: list[dict[str, Any]] = []
            self._next_id = 1000

    # -- bookkeeping -----------------------------------------------------------------

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def record(self, path: str, method: str, params: dict, body: Any, result: dict | str) -> None:
        shown = {k: v for k, v in params.items() if k not in ("access_token", "secret")}
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "secret"}
        errcode = result.get("errcode", 0) if isinstance(result, dict) else 0
        self.calls.append(
            {
                "at": time.time(),
                "path": path,
                "method": method,
                "params": shown,
                "json": body,
                "errcode": errcode,
            }
        )

    def calls_to(self, path: str, ok_only: bool = False) -> list[dict]:
        with self.lock:
            return [
                c for c in self.calls if c["path"] == path and (not ok_only or c["errcode"] == 0)
            ]

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        """End every injected fault: the outage is over."""
        with self.lock:
            self.faults = []

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path in (path, "*") and fault.times != 0:
                if fault.times > 0:
                    fault.times -= 1
                return fault
        return None

    # -- users --------------------------------------------------------------------------

    def set_user(self, openid: str, *, subscribed: bool = True, interacted_ago: float | None = 0):
        with self.lock:
            user = self.users.setdefault(openid, User(openid))
            user.subscribed = subscribed
            if interacted_ago is not None:
                user.last_interaction = time.time() - interacted_ago
                user.custom_in_window = 0

    def user(self, openid: str) -> User:
        if not openid or len(openid) > 64 or not openid.replace("-", "").replace("_", "").isalnum():
            raise WeChatError(40003, "invalid openid")
        return self.users.setdefault(openid, User(openid))

    # -- tokens -------------------------------------------------------------------------

    def _issue(self) -> str:
        token = secrets.token_urlsafe(96)  # real tokens are ~140 characters
        self.tokens[token] = time.time() + TOKEN_LIFETIME
        return token

    def check_app(self, app_id: str, secret: str) -> None:
        if app_id != self.app_id:
            raise WeChatError(40013, "invalid appid")
        if secret != self.app_secret:
            raise WeChatError(40125, "invalid appsecret")

    def classic(self, app_id: str, secret: str) -> dict:
        self.check_app(app_id, secret)
        # A new classic token invalidates the previous one.
        if self.classic_token:
            self.tokens.pop(self.classic_token, None)
        self.classic_token = self._issue()
        return {"access_token": self.classic_token, "expires_in": TOKEN_LIFETIME}

    def stable(self, app_id: str, secret: str, force_refresh: bool) -> dict:
        self.check_app(app_id, secret)
        current = self.stable_token
        if force_refresh or current is None or self.tokens.get(current, 0) <= time.time():
            self.stable_token = self._issue()
        remaining = int(self.tokens[self.stable_token] - time.time())
        return {"access_token": self.stable_token, "expires_in": remaining}

    def check_token(self, token: str | None) -> None:
        if not token:
            raise WeChatError(41001, "access_token missing")
        expiry = self.tokens.get(token)
        if expiry is None:
            raise WeChatError(40001, "invalid credential, access_token is invalid or not latest")
        if expiry <= time.time():
            raise WeChatError(42001, "access_token expired")

    def expire_all_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    # -- messages -----------------------------------------------------------------------

    def custom_send(self, body: dict) -> dict:
        user = self._reachable(body.get("touser"))
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "image", "voice", "video", "music", "news", "mpnews", "msgmenu"):
            raise WeChatError(40008, "invalid message type")
        if msgtype == "text" and not str((body.get("text") or {}).get("content") or ""):
            raise WeChatError(44003, "empty news data")
        if user.last_interaction is not None:
            if time.time() - user.last_interaction > 48 * 3600:
                raise WeChatError(45015, "response out of time limit or subscription is canceled")
            if user.custom_in_window >= self.custom_window_budget:
                raise WeChatError(45047, "out of response count limit")
            user.custom_in_window += 1
        return {"errcode": 0, "errmsg": "ok"}

    def template_send(self, body: dict) -> dict:
        self._reachable(body.get("touser"))
        if body.get("template_id") not in self.templates:
            raise WeChatError(40037, "invalid template_id")
        data = body.get("data")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and "value" in v for v in data.values()
        ):
            raise WeChatError(47001, "data format error")
        return {"errcode": 0, "errmsg": "ok", "msgid": self.next_id()}

    def subscribe_send(self, body: dict) -> dict:
        user = self._reachable(body.get("touser"))
        template_id = body.get("template_id")
        if template_id not in self.subscribe_templates:
            raise WeChatError(40037, "invalid template_id")
        if (user.openid, template_id) in self.refused:
            raise WeChatError(43101, "user refuse to accept the msg")
        data = body.get("data")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and "value" in v for v in data.values()
        ):
            raise WeChatError(47003, "argument invalid! data.value invalid")
        return {"errcode": 0, "errmsg": "ok"}

    def _reachable(self, openid: Any) -> User:
        if not isinstance(openid, str):
            raise WeChatError(40003, "invalid openid")
        user = self.user(openid)
        if not user.subscribed:
            raise WeChatError(43004, "require subscribe")
        return user

    def mass_send(self, body: dict, *, to_all_or_tag: bool) -> dict:
        if body.get("msgtype") != "text" and body.get("msgtype") not in (
            "mpnews",
            "image",
            "voice",
        ):
            raise WeChatError(40008, "invalid message type")
        if body["msgtype"] == "text" and len((body.get("text") or {}).get("content") or "") > 300:
            raise WeChatError(45002, "content size out of limit")  # 300 since April 2020
        if body["msgtype"] != "text" and not (body.get(body["msgtype"]) or {}).get("media_id"):
            raise WeChatError(40007, "invalid media_id")
        if to_all_or_tag:
            flt = body.get("filter")
            if not isinstance(flt, dict) or "group_id" in flt:
                raise WeChatError(47001, "data format error: use filter.tag_id")
            if flt.get("is_to_all"):
                audience = [u.openid for u in self.users.values() if u.subscribed]
            else:
                tag_id = flt.get("tag_id")
                if tag_id not in self.tags:
                    raise WeChatError(40050, "invalid tag id")
                audience = sorted(self.tag_members.get(tag_id, set()))
        else:
            audience = body.get("touser")
            if not isinstance(audience, list) or not 2 <= len(audience) <= 10_000:
                raise WeChatError(40130, "invalid openid list size, at least two openid")
        client_msg_id = body.get("clientmsgid")
        if client_msg_id and client_msg_id in self.client_msg_ids:
            raise WeChatError(45065, "clientmsgid exist", msg_id=self.client_msg_ids[client_msg_id])
        month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        sent, filtered = 0, 0
        for openid in audience:
            user = self.user(openid)
            if not user.subscribed or user.mass_received.get(month, 0) >= MASS_PER_USER_PER_MONTH:
                filtered += 1
                continue
            user.mass_received[month] = user.mass_received.get(month, 0) + 1
            sent += 1
        msg_id = self.next_id()
        self.mass_jobs[msg_id] = {"total": len(audience), "sent": sent, "filtered": filtered}
        if client_msg_id:
            self.client_msg_ids[client_msg_id] = msg_id
        return {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": msg_id,
            "msg_data_id": msg_id * 10,
        }

    def mass_get(self, body: dict) -> dict:
        job = self.mass_jobs.get(body.get("msg_id"))
        if job is None:
            raise WeChatError(40007, "invalid msg_id")
        return {"msg_id": body["msg_id"], "msg_status": "SEND_SUCCESS"}

    # -- menu, media, users, tags ------------------------------------------------------

    def menu_create(self, body: dict) -> dict:
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise WeChatError(40016, "invalid button size")
        for button in buttons:
            subs = button.get("sub_button", [])
            if not button.get("name") or len(button["name"].encode()) > 16:
                raise WeChatError(40018, "invalid button name size")
            if len(subs) > 5:
                raise WeChatError(40023, "invalid sub button size")
            for sub in subs:
                if sub.get("type") == "click" and not sub.get("key"):
                    raise WeChatError(40019, "invalid button key size")
                if len(sub.get("name", "").encode()) > 60:
                    raise WeChatError(40018, "invalid button name size")
        self.menu = body
        return {"errcode": 0, "errmsg": "ok"}

    def menu_get(self) -> dict:
        if self.menu is None:
            raise WeChatError(46003, "menu no exist")
        return {"menu": self.menu}

    def check_media(self, media_id: str) -> None:
        if not media_id or media_id in self.expired_media:
            raise WeChatError(40007, "invalid media_id")

    def user_info(self, openid: str) -> dict:
        user = self.user(openid)
        if not user.subscribed:
            return {"subscribe": 0, "openid": openid}
        return {
            "subscribe": 1,
            "openid": openid,
            "language": "zh_CN",
            "subscribe_time": int(user.last_interaction or time.time()),
            "tagid_list": [t for t, m in self.tag_members.items() if openid in m],
        }

    def tag_create(self, body: dict) -> dict:
        name = (body.get("tag") or {}).get("name")
        if not name or len(name) > 30:
            raise WeChatError(45158, "tag name too long")
        if name in self.tags.values():
            raise WeChatError(45157, "invalid tag name")
        tag_id = self.next_id()
        self.tags[tag_id] = name
        return {"tag": {"id": tag_id, "name": name}}

    def tags_get(self) -> dict:
        return {
            "tags": [
                {"id": i, "name": n, "count": len(self.tag_members.get(i, ()))}
                for i, n in self.tags.items()
            ]
        }

    def tag_members_add(self, body: dict) -> dict:
        tag_id, openids = body.get("tagid"), body.get("openid_list")
        if tag_id not in self.tags:
            raise WeChatError(45059, "tag id not exist")
        if not isinstance(openids, list) or not 1 <= len(openids) <= 50:
            raise WeChatError(40032, "invalid openid list size")
        for openid in openids:
            self.user(openid)
        self.tag_members.setdefault(tag_id, set()).update(openids)
        return {"errcode": 0, "errmsg": "ok"}

    def tag_followers(self, body: dict) -> dict:
        """A tag's followers, 10,000 at a time after ``next_openid``; like WeChat, an
        empty page (count 0) ends the list."""
        tag_id = body.get("tagid")
        if tag_id not in self.tags:
            raise WeChatError(45059, "tag id not exist")
        members = sorted(self.tag_members.get(tag_id, set()))
        after = body.get("next_openid") or ""
        chunk = [o for o in members if o > after][:10_000]
        data = {"openid": chunk} if chunk else {}
        return {"count": len(chunk), "data": data, "next_openid": chunk[-1] if chunk else ""}
