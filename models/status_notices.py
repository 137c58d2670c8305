"""Telling a worker that staff moved their application on: the notice text and its outbox row.

Staff decisions in the admin call this in the transaction that records the
decision, so the notice leaves exactly when the decision commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.aid import (
    APPROVED,
    NEEDS_INFO,
    PAID,
    REJECTED,
    UNDER_REVIEW,
    AidApplication,
    ApplicationEvent,
)
from models.follower import Follower
from models.outbox import enqueue_notice

NOTICES = {
    UNDER_REVIEW: "您的申请 {ref}（{programme}）已进入审核。",
    NEEDS_INFO: (
        "您的申请 {ref}（{programme}）需要补充：{comment}。请回复“补充 {ref}”在公众号里补交。"
    ),
    APPROVED: "您的申请 {ref}（{programme}）已审核通过。{comment}",
    REJECTED: (
        "您的申请 {ref}（{programme}）未通过审核。原因：{comment}。如有疑问请拨打 {hotline}。"
    ),
    PAID: "您的申请 {ref}（{programme}）的帮扶资金已发放，请留意银行卡或工会会员服务卡到账。",
}


def notify_status(
    session: Session, application: AidApplication, event: ApplicationEvent, hotline: str
) -> bool:
    """Queue the notice for ``event`` (once per event); False if there is nobody to tell."""
    template = NOTICES.get(event.to_status)
    follower = session.get(Follower, application.follower_id) if application.follower_id else None
    if template is None or follower is None:
        return False
    text = template.format(
        ref=application.reference,
        programme=application.programme.name,
        comment=event.comment or "",
        hotline=hotline,
    ).replace("。。", "。")
    return enqueue_notice(
        session,
        key=f"aid:{application.reference}:{event.id}",
        kind="aid_status",
        follower_id=follower.id,
        openid=follower.openid,
        text=text,
    )
