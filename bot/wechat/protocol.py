"""Verify, decrypt and parse a callback request; render and encrypt the reply.

Every failure is a :class:`Rejected` carrying the HTTP status the webhook
returns: 403 when the request cannot be shown to come from WeChat, 400 when it
does not parse. wechatpy does the parsing and the AES work; the checks it does
with ``!=`` are done here first, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage
from wechatpy.replies import TextReply

from bot.config import WeChatSettings
from bot.wechat.fields import Malformed, check_fields

# DOCTYPE and entity declarations have no place in WeChat's XML; refusing them
# before the parser runs rules out XXE and entity expansion (billion laughs).
FORBIDDEN_MARKUP = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# Characters XML 1.0 does not allow at all; a worker can still type them.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Callback:
    """A verified, parsed callback: the message, its raw fields and how it arrived."""

    message: BaseMessage
    fields: dict[str, Any]
    encrypted: bool
    nonce: str


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's protocol)


def _signature_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def verify_request(
    settings: WeChatSettings, args: dict[str, str], now: float | None = None
) -> None:
    """Check the query signature and the timestamp window, or raise ``Rejected(403)``."""
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if not _signature_matches(sign(settings.token, timestamp, nonce), args.get("signature")):
        raise Rejected(403, "bad signature")
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        raise Rejected(403, "bad timestamp") from None
    if age > settings.timestamp_window_seconds:
        raise Rejected(403, "stale timestamp")


def _parse_xml(body: bytes) -> dict[str, Any]:
    if FORBIDDEN_MARKUP.search(body):
        raise Rejected(400, "DOCTYPE or entity declaration")
    try:
        document = xmltodict.parse(body, disable_entities=True)
    except Exception:  # expat and xmltodict raise several unrelated types
        raise Rejected(400, "malformed XML") from None
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise Rejected(400, "no <xml> root")
    return root


def crypto_for(settings: WeChatSettings) -> WeChatCrypto:
    return WeChatCrypto(settings.token, settings.encoding_aes_key, settings.app_id)


def read_callback(settings: WeChatSettings, args: dict[str, str], body: bytes) -> Callback:
    """Turn a POSTed body into a :class:`Callback`; the query must already be verified."""
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    if not encrypted and settings.require_encryption:
        raise Rejected(403, "encryption required")
    fields = _parse_xml(body)
    if encrypted:
        if not settings.safe_mode:
            raise Rejected(400, "encrypted message but no encoding_aes_key configured")
        envelope = fields.get("Encrypt")
        if not isinstance(envelope, str):
            raise Rejected(400, "no Encrypt element")
        expected = sign(settings.token, args.get("timestamp", ""), args.get("nonce", ""), envelope)
        if not _signature_matches(expected, args.get("msg_signature")):
            raise Rejected(403, "bad msg_signature")
        try:
            plain = crypto_for(settings).decrypt_message(
                fields, expected, args["timestamp"], args["nonce"]
            )
        except Exception:  # bad padding, bad app id, bad base64 ...: all mean "not ours"
            raise Rejected(400, "cannot decrypt") from None
        body = plain.encode() if isinstance(plain, str) else plain
        fields = _parse_xml(body)
    if not isinstance(fields.get("MsgType"), str) or not isinstance(
        fields.get("FromUserName"), str
    ):
        raise Rejected(400, "missing MsgType or FromUserName")
    try:
        check_fields(fields)
    except Malformed as problem:
        raise Rejected(400, str(problem)) from None
    try:
        message = _message(fields, body)
    except Exception:
        raise Rejected(400, "unparseable message") from None
    return Callback(
        message=message, fields=fields, encrypted=encrypted, nonce=args.get("nonce", "")
    )


def _message(fields: dict[str, Any], body: bytes) -> BaseMessage:
    """wechatpy's message object. A message (text, voice, image …) is built from the
    fields already parsed; an event is parsed again by wechatpy, which renames some
    (a QR-code follow becomes ``subscribe_scan``, its key loses ``qrscene_``)."""
    kind = fields["MsgType"].lower()
    if kind == "event" or kind.startswith("device_"):
        return parse_message(body)
    return MESSAGE_TYPES.get(kind, UnknownMessage)(dict(fields))


def cdata_safe(text: str) -> str:
    """Make any text safe inside the CDATA section wechatpy renders it into.

    wechatpy writes ``<![CDATA[text]]>`` verbatim, so a ``]]>`` a worker typed
    would close the section early and let the rest become markup.
    """
    return XML_ILLEGAL.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def render_text(callback: Callback, text: str, settings: WeChatSettings) -> str:
    """Render a passive text reply to ``callback``, encrypted when the request was."""
    reply = TextReply(message=callback.message, content=cdata_safe(text), time=int(time.time()))
    xml = reply.render()
    if callback.encrypted:
        return crypto_for(settings).encrypt_message(xml, callback.nonce, str(int(time.time())))
    return xml
