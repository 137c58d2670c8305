"""Play WeChat's side of the callback: build, sign (and encrypt) deliveries, read the replies.

Used by ``unionbot chat`` and by the tests, so both speak to the webhook exactly
as WeChat does. The transport is either a Flask test client (in process) or
real HTTP to a running server.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass
from typing import ClassVar, Protocol

import requests
import xmltodict

from bot.config import WeChatSettings
from bot.wechat.protocol import cdata_safe, crypto_for, sign

ACCOUNT = "gh_unionbot_demo"


class Transport(Protocol):
    def post(self, path: str, params: dict[str, str], body: bytes) -> tuple[int, bytes]: ...


class FlaskTransport:
    """Deliver through a Flask test client: the real app, no sockets."""

    def __init__(self, client):
        self.client = client

    def post(self, path, params, body):
        response = self.client.post(path, query_string=params, data=body, content_type="text/xml")
        return response.status_code, response.get_data()


class HttpTransport:
    """Deliver over HTTP to a running ``unionbot serve``."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def post(self, path, params, body):
        response = requests.post(
            self.base_url + path,
            params=params,
            data=body,
            headers={"Content-Type": "text/xml"},
            timeout=self.timeout,
        )
        return response.status_code, response.content


@dataclass
class Answer:
    """What the webhook answered: status, raw body, and the reply's fields when there is one."""

    status: int
    body: bytes
    fields: dict | None

    @property
    def text(self) -> str:
        """The reply text, or "" for ``success``/empty answers."""
        return (self.fields or {}).get("Content") or ""


def element(name: str, value: object) -> str:
    """One XML element as WeChat writes it: CDATA for strings, bare numbers."""
    if isinstance(value, int | float):
        return f"<{name}>{value}</{name}>"
    return f"<{name}><![CDATA[{cdata_safe(str(value))}]]></{name}>"


class Simulator:
    """A WeChat server that delivers one worker's messages to the webhook.

    ``pace_seconds`` spaces each worker's messages at least that far apart in
    CreateTime, as a person reading each reply before answering would; scripted
    conversations then never look like a double tap (the same text resent within
    seconds, which the bot takes once). 0 stamps real time, as the terminal chat does.
    """

    _msg_ids = itertools.count(int(time.time() * 1000) * 1000)
    _last_created: ClassVar[dict[str, int]] = {}  # per openid, across simulators

    def __init__(
        self, settings: WeChatSettings, transport: Transport, *, encrypt=None, pace_seconds=0
    ):
        self.settings = settings
        self.transport = transport
        self.encrypt = settings.safe_mode if encrypt is None else encrypt
        self.pace_seconds = pace_seconds

    def _created(self, openid: str) -> int:
        created = max(int(time.time()), self._last_created.get(openid, 0) + self.pace_seconds)
        self._last_created[openid] = created
        return created

    def next_msg_id(self) -> int:
        return next(self._msg_ids)

    def xml(self, openid: str, msg_type: str, created: int | None = None, **fields) -> bytes:
        parts = [
            element("ToUserName", ACCOUNT),
            element("FromUserName", openid),
            element("CreateTime", created or self._created(openid)),
            element("MsgType", msg_type),
        ]
        parts += [element(name, value) for name, value in fields.items()]
        return ("<xml>" + "".join(parts) + "</xml>").encode()

    def text_xml(self, openid: str, content: str, msg_id: int | None = None) -> bytes:
        return self.xml(openid, "text", Content=content, MsgId=msg_id or self.next_msg_id())

    def event_xml(self, openid: str, event: str, key: str | None = None, **fields) -> bytes:
        if key is not None:
            fields["EventKey"] = key
        return self.xml(openid, "event", Event=event, **fields)

    def signed_params(self, body: bytes, timestamp: int | None = None) -> tuple[dict, bytes]:
        """Sign ``body`` (encrypting it first in safe mode) as WeChat does."""
        timestamp_s = str(timestamp or int(time.time()))
        nonce = secrets.token_hex(5)
        params = {
            "timestamp": timestamp_s,
            "nonce": nonce,
            "signature": sign(self.settings.token, timestamp_s, nonce),
            "openid": "",
        }
        if self.encrypt:
            crypto = crypto_for(self.settings)
            envelope = xmltodict.parse(crypto.encrypt_message(body.decode(), nonce, timestamp_s))
            encrypted = envelope["xml"]["Encrypt"]
            params["encrypt_type"] = "aes"
            params["msg_signature"] = sign(self.settings.token, timestamp_s, nonce, encrypted)
            body = (
                f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            ).encode()
        return params, body

    def deliver(self, body: bytes, params: dict | None = None) -> Answer:
        """POST ``body`` (signed unless ``params`` are given) and decode the answer."""
        if params is None:
            params, body = self.signed_params(body)
        status, raw = self.transport.post("/wechat", params, body)
        return Answer(status, raw, self.read_reply(status, raw))

    def read_reply(self, status: int, raw: bytes) -> dict | None:
        if status != 200 or not raw.lstrip().startswith(b"<xml"):
            return None
        fields = xmltodict.parse(raw)["xml"]
        if "Encrypt" in fields:
            expected = sign(
                self.settings.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]
            )
            if expected != fields.get("MsgSignature"):
                raise ValueError("reply MsgSignature does not match its content")
            plain = crypto_for(self.settings).decrypt_message(
                raw, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
            )
            fields = xmltodict.parse(plain)["xml"]
        return fields

    def send_text(self, openid: str, content: str) -> Answer:
        return self.deliver(self.text_xml(openid, content))

    def send_event(self, openid: str, event: str, key: str | None = None, **fields) -> Answer:
        return self.deliver(self.event_xml(openid, event, key, **fields))

    def send_image(self, openid: str, media_id: str) -> Answer:
        """A photo, as WeChat announces it: a compressed PicUrl and the original's MediaId."""
        pic_url = f"http://mmbiz.qpic.cn/{media_id}.jpg"
        return self.deliver(
            self.xml(openid, "image", PicUrl=pic_url, MediaId=media_id, MsgId=self.next_msg_id())
        )
