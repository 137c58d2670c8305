"""Subscription-message events that wechatpy 1.8 does not model.

WeChat added them in 2021 for 订阅通知: the popup a worker answers, a later
change in the account's settings, and the result of each notice sent. Without
these classes wechatpy parses them as ``UnknownMessage`` and the worker's
consent would be lost.
https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
"""

from __future__ import annotations

from wechatpy.events import BaseEvent, register_event


class BaseSubscribeMsgEvent(BaseEvent):
    container = ""

    @property
    def items(self) -> list[dict]:
        """Each template's entry; WeChat sends one ``List`` element per template."""
        block = self._data.get(self.container) or {}
        entries = block.get("List", []) if isinstance(block, dict) else []
        return entries if isinstance(entries, list) else [entries]


@register_event("subscribe_msg_popup_event")
class SubscribeMsgPopupEvent(BaseSubscribeMsgEvent):
    """The worker accepted or rejected templates in the subscription popup."""

    event = "subscribe_msg_popup_event"
    container = "SubscribeMsgPopupEvent"


@register_event("subscribe_msg_change_event")
class SubscribeMsgChangeEvent(BaseSubscribeMsgEvent):
    """The worker changed a template's subscription in the account settings."""

    event = "subscribe_msg_change_event"
    container = "SubscribeMsgChangeEvent"


@register_event("subscribe_msg_sent_event")
class SubscribeMsgSentEvent(BaseSubscribeMsgEvent):
    """WeChat reports the result of one subscription notice it delivered."""

    event = "subscribe_msg_sent_event"
    container = "SubscribeMsgSentEvent"
