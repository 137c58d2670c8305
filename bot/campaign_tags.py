"""Who carries a WeChat tag, read from WeChat before a run to that tag is planned.

Tags are set in WeChat (the console, or staff's tools), not here, so the planner reads
the tag's followers afresh when a run starts: then opt-outs and unreachable followers
are excluded like in any other audience, which a mass send "to a tag" could not do.
https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.wechat.api import WeChatApi
from models.audience import FollowerTag
from models.follower import Follower


def tag_openids(api: WeChatApi, tag_id: int) -> list[str]:
    """Every openid WeChat lists under ``tag_id`` (10,000 a page)."""
    openids: list[str] = []
    after = ""
    while True:
        page = api.post(None, "user/tag/get", {"tagid": tag_id, "next_openid": after})
        chunk = (page.get("data") or {}).get("openid") or []
        if not page.get("count") or not chunk:
            return openids
        openids += chunk
        after = page.get("next_openid") or chunk[-1]


def store_tag(session: Session, tag_id: int, openids: list[str]) -> int:
    """Make ``tag_id``'s members in the database the followers among ``openids``."""
    session.execute(delete(FollowerTag).where(FollowerTag.tag_id == tag_id))
    members = 0
    for start in range(0, len(openids), 1000):
        ids = session.scalars(
            select(Follower.id).where(Follower.openid.in_(openids[start : start + 1000]))
        ).all()
        session.add_all(FollowerTag(follower_id=i, tag_id=tag_id) for i in ids)
        members += len(ids)
    return members
