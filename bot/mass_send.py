"""WeChat mass send (群发): the request for a mass row of the outbox.

A row says who (``openids``: 2 to 10,000; else ``tag_id``; else every follower) and
what (``text`` up to 300 characters, or an article's ``media_id``), and carries its
``client_msg_id``: WeChat refuses a second call with the same id (45065) and the
drainer takes that as "already sent", so a call retried after a timeout or a crash
never reaches the workers twice.
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
"""

from __future__ import annotations

from typing import Any

from bot.wechat.api import WeChatApi

TO_OPENIDS = "message/mass/send"
TO_TAG_OR_ALL = "message/mass/sendall"


def request(payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The endpoint and JSON body for a mass row's ``payload``."""
    if payload.get("media_id"):
        body: dict[str, Any] = {"msgtype": "mpnews", "mpnews": {"media_id": payload["media_id"]}}
        # Without it WeChat stops an article judged a reprint; a union notice may quote one.
        body["send_ignore_reprint"] = 1
    else:
        body = {"msgtype": "text", "text": {"content": payload["text"]}}
    body["clientmsgid"] = payload["client_msg_id"]
    if payload.get("openids"):
        return TO_OPENIDS, {"touser": list(payload["openids"]), **body}
    tag_id = payload.get("tag_id")
    # wechatpy still sends the obsolete group_id: WeChat reads filter.tag_id.
    target = {"is_to_all": tag_id is None, **({"tag_id": tag_id} if tag_id is not None else {})}
    return TO_TAG_OR_ALL, {"filter": target, **body}


def send(api: WeChatApi, payload: dict[str, Any]) -> dict[str, Any]:
    """Make the call; WeChat's answer (``msg_id``, ``msg_data_id``) or an ApiError."""
    path, body = request(payload)
    return api.post("mass", path, body)
