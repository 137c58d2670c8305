"""The shape of a callback's fields, checked before anything parses, stores or routes them.

The signature proves a body came from someone holding the token, not that it is
well formed: a bug on WeChat's side, a leaked token or a replaying proxy can
still send an element with attributes, a duplicated element, a MsgId beyond a
bigint or 5,000 levels of nesting. Each of those once reached the database or
wechatpy and became a 500. Here every field we read must be plain text of a
length our columns hold, numbers must fit what they are stored in, and the
document must be shallow; anything else is a :class:`Malformed` (400), named.
Fields we do not read are kept as they came, within the depth limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Text fields we read, and the longest value we accept (None: bounded by the body size).
TEXT: dict[str, int | None] = {
    "ToUserName": 64,
    "FromUserName": 64,  # followers.openid and deliveries.openid are varchar(64)
    "MsgType": 32,  # deliveries.msg_type
    "Event": 64,  # deliveries.event
    "EventKey": 128,  # menu keys and qrscene_ strings; followers.subscribe_scene
    "MediaId": 256,
    "ThumbMediaId": 256,
    "Format": 16,
    "Ticket": 256,
    "PicUrl": 2048,
    "Url": 2048,
    "Title": 1024,
    "Label": 1024,
    "Description": None,
    "Content": None,
    "Recognition": None,
    "Location_X": 32,
    "Location_Y": 32,
    "Scale": 32,
    "Latitude": 32,
    "Longitude": 32,
    "Precision": 32,
}
# Whole numbers we read, and the range their columns and datetime conversion take.
INTEGERS: dict[str, tuple[int, int]] = {
    "MsgId": (0, 2**63 - 1),  # deliveries.wechat_msg_id is a bigint
    "MsgID": (0, 2**63 - 1),
    "CreateTime": (0, 2**32 - 1),  # Unix seconds; datetime overflows far above
}
DIGITS = re.compile(r"\d{1,20}")
# WeChat's deepest documents (a subscription popup's List items, a mass send's
# copyright check) are four levels below <xml>.
MAX_DEPTH = 6


class Malformed(ValueError):
    """A field is not what WeChat sends; ``str()`` names it."""


def check_fields(fields: Mapping[str, Any]) -> None:
    """Raise :class:`Malformed` unless ``fields`` (the children of ``<xml>``) are sound."""
    _check_depth(fields)
    for name, limit in TEXT.items():
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise Malformed(f"{name} must be plain text (no attributes, children or repeats)")
        if limit is not None and len(value) > limit:
            raise Malformed(f"{name} longer than {limit} characters")
    for name, (low, high) in INTEGERS.items():
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not DIGITS.fullmatch(value.strip()):
            raise Malformed(f"{name} must be a whole number")
        if not low <= int(value) <= high:
            raise Malformed(f"{name} out of range")


def _check_depth(root: Any) -> None:
    """Breadth-first, so a hostile depth costs no recursion."""
    level, depth = [root], 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise Malformed(f"nested deeper than {MAX_DEPTH} levels")
        children = []
        for node in level:
            if isinstance(node, Mapping):
                children.extend(node.values())
            elif isinstance(node, list):
                children.extend(node)
        level = [c for c in children if isinstance(c, Mapping | list)]
