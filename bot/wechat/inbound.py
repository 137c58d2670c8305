"""Translate a parsed WeChat message into the handlers' :class:`Inbound`, and name its delivery."""

from __future__ import annotations

import datetime as dt

from bot.wechat.protocol import Callback
from handlers.messages import Inbound


def to_inbound(callback: Callback) -> Inbound:
    fields = callback.fields
    kind = str(fields.get("MsgType", "unknown")).lower()
    message = callback.message
    text = ""
    if kind == "text":
        text = fields.get("Content") or ""
    elif kind == "voice":
        text = fields.get("Recognition") or ""
    return Inbound(
        openid=fields["FromUserName"],
        kind=kind,
        sent_at=_sent_at(fields.get("CreateTime")),
        text=text,
        # wechatpy renames a QR-code follow to "subscribe_scan" and strips the
        # "qrscene_" prefix from its key; use its reading of the event.
        event=(getattr(message, "event", None) or str(fields.get("Event") or "")).lower()
        if kind == "event"
        else "",
        key=str(getattr(message, "scene_id", None) or fields.get("EventKey") or ""),
        media_id=fields.get("MediaId") or "",
        msg_id=_int(fields.get("MsgId") or fields.get("MsgID")),
        fields=dict(fields),
    )


def dedupe_key(inbound: Inbound) -> str:
    """Name a delivery so that WeChat's retries of it, and only they, share the name.

    Messages carry a MsgId; the sender is part of the key because MsgIds have
    been seen to collide between users who sent at the same moment. Events have
    no MsgId (wechatpy reports 0), so the key is the sender, the second it was
    sent, the event and its key; the raw EventKey keeps a QR follow apart from
    a plain one.
    """
    if inbound.msg_id and not inbound.is_event:
        return f"m:{inbound.openid}:{inbound.msg_id}"
    raw_key = inbound.fields.get("EventKey") or ""
    created = inbound.fields.get("CreateTime") or ""
    job = inbound.msg_id or ""  # the two job-finish events do carry an id
    return f"e:{inbound.openid}:{created}:{inbound.event}:{raw_key}:{job}"[:255]


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _sent_at(create_time: object) -> dt.datetime:
    seconds = _int(create_time)
    return dt.datetime.fromtimestamp(seconds, dt.UTC) if seconds > 0 else dt.datetime.now(dt.UTC)
