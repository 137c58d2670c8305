"""Who a campaign reaches: its audience rule, read from the database in batches.

Every rule is narrowed by the same base: the follower still follows the account,
WeChat has not called them unreachable (43004 unsubscribed, 40003 bad openid), and
they have not sent 退订. Followers are read in id order, a page at a time (keyset,
not OFFSET), so a 100,000-follower audience costs the memory of one page, and a
planner that stopped can go on from the last id it finished.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint, exists, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.aid import AidApplication
from models.base import Base
from models.competition import CompetitionEntry
from models.follower import Follower
from models.wishes import ReminderWish

RULE_WORDS = {
    "all": "全部关注者",
    "tag": "微信标签",
    "applicants": "帮扶项目申请人",
    "entrants": "竞赛报名者",
    "active": "近期互动过的职工",
    "wishes": "回复过“提醒我”的职工",
}


class AudienceError(ValueError):
    """An audience rule that cannot be read, worded for staff."""


class CampaignOptOut(Base):
    """A worker's choice about campaign messages (退订 / 订阅), kept with its time.

    Only campaigns read it: notices about the worker's own applications and sign-ups
    are not campaigns and still arrive."""

    __tablename__ = "campaign_opt_outs"
    __table_args__ = (UniqueConstraint("follower_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("followers.id", ondelete="CASCADE"))
    opted_out: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[dt.datetime]


class FollowerTag(Base):
    """The WeChat tags (用户标签) a follower carries, as last read from WeChat."""

    __tablename__ = "follower_tags"

    follower_id: Mapped[int] = mapped_column(
        ForeignKey("followers.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


@dataclass(frozen=True)
class Recipient:
    id: int
    openid: str
    last_interaction_at: dt.datetime | None


def set_opt_out(session: Session, follower_id: int, opted_out: bool, now: dt.datetime) -> bool:
    """Record 退订 (``True``) or 订阅 (``False``); return whether it changed anything."""
    choice = session.scalars(
        select(CampaignOptOut).where(CampaignOptOut.follower_id == follower_id)
    ).first()
    if choice is None:
        if not opted_out:
            return False
        session.add(CampaignOptOut(follower_id=follower_id, opted_out=True, changed_at=now))
        return True
    if choice.opted_out == opted_out:
        return False
    choice.opted_out, choice.changed_at = opted_out, now
    return True


def check_rule(rule: dict[str, Any]) -> None:
    """Raise :class:`AudienceError` for a rule the planner could not apply."""
    kind = rule.get("rule", "all")
    if kind not in RULE_WORDS:
        raise AudienceError(f"不认识的受众规则“{kind}”。")
    needs = {"tag": "tag_id", "active": "days"}.get(kind)
    if needs and not isinstance(rule.get(needs), int):
        raise AudienceError(f"受众规则“{RULE_WORDS[kind]}”需要填写 {needs}（整数）。")
    if rule.get("season") is not None and not isinstance(rule["season"], int):
        raise AudienceError("年度请填写数字，例如 2026。")
    if kind == "applicants" and not rule.get("programme"):
        raise AudienceError("受众规则“帮扶项目申请人”需要填写项目编号（programme）。")
    if kind == "entrants" and not rule.get("competition"):
        raise AudienceError("受众规则“竞赛报名者”需要填写竞赛编号（competition）。")
    if kind == "wishes" and not (rule.get("programme") or rule.get("competition")):
        raise AudienceError("受众规则“提醒我”需要填写项目编号或竞赛编号。")


def describe(rule: dict[str, Any]) -> str:
    """The rule in staff's words: ``帮扶项目申请人（jinqiu，2026年）``."""
    kind = rule.get("rule", "all")
    details = [
        str(rule[key])
        for key in ("programme", "competition", "tag_id")
        if rule.get(key) is not None
    ]
    if rule.get("season"):
        details.append(f"{rule['season']}年")
    if kind == "active":
        details.append(f"近{rule['days']}天")
    words = RULE_WORDS.get(kind, kind)
    return f"{words}（{'，'.join(details)}）" if details else words


def conditions(rule: dict[str, Any], now: dt.datetime) -> list:
    """The WHERE clauses of ``rule``, with the base every audience shares."""
    opted_out = exists().where(
        CampaignOptOut.follower_id == Follower.id, CampaignOptOut.opted_out.is_(True)
    )
    where = [Follower.subscribed.is_(True), Follower.unreachable_reason.is_(None), ~opted_out]
    kind = rule.get("rule", "all")
    if kind == "tag":
        where.append(
            exists().where(
                FollowerTag.follower_id == Follower.id, FollowerTag.tag_id == rule["tag_id"]
            )
        )
    elif kind == "applicants":
        code = AidApplication.programme_code == rule["programme"]
        where.append(_took_part(AidApplication, code, rule.get("season")))
    elif kind == "entrants":
        code = CompetitionEntry.competition_code == rule["competition"]
        where.append(_took_part(CompetitionEntry, code, rule.get("season")))
    elif kind == "active":
        where.append(Follower.last_interaction_at >= now - dt.timedelta(days=int(rule["days"])))
    elif kind == "wishes":
        where.append(
            exists().where(*wish_conditions(rule), ReminderWish.follower_id == Follower.id)
        )
    return where


def _took_part(model, code, season) -> Any:
    """The follower has an application (or sign-up) ``code`` selects, in ``season`` if given."""
    where = [model.follower_id == Follower.id, code]
    if season:
        where.append(model.season == int(season))
    return exists().where(*where)


def wish_conditions(rule: dict[str, Any]) -> list:
    """The waiting 提醒我 wishes a ``wishes`` rule answers."""
    subject = (
        ReminderWish.programme_code == rule["programme"]
        if rule.get("programme")
        else ReminderWish.competition_code == rule["competition"]
    )
    return [subject, ReminderWish.notified_at.is_(None)]


def page(
    session: Session, rule: dict[str, Any], now: dt.datetime, after_id: int, limit: int
) -> list[Recipient]:
    """Up to ``limit`` recipients with ids above ``after_id``, in id order."""
    rows = session.execute(
        select(Follower.id, Follower.openid, Follower.last_interaction_at)
        .where(*conditions(rule, now), Follower.id > after_id)
        .order_by(Follower.id)
        .limit(limit)
    )
    return [Recipient(*row) for row in rows]


def count(session: Session, rule: dict[str, Any], now: dt.datetime) -> int:
    query = select(func.count()).select_from(Follower).where(*conditions(rule, now))
    return session.scalar(query) or 0


def mask_openid(openid: str) -> str:
    """An openid as staff may see it in a sample: enough to tell two apart."""
    return f"{openid[:4]}****{openid[-4:]}" if len(openid) > 10 else openid[:2] + "****"
