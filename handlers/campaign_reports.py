"""WeChat's reports on what it sent, matched back to campaign runs.

MASSSENDJOBFINISH comes once a mass call has been delivered, with WeChat's own counts;
TEMPLATESENDJOBFINISH after each template message; subscribe_msg_sent_event after each
subscription notice. None needs a reply: WeChat gets ``success``.
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
"""

from __future__ import annotations

from handlers.messages import MASS_JOB_FINISH, TEMPLATE_JOB_FINISH, Inbound, Reply
from handlers.state import State
from models.campaign_runs import record_report

SUBSCRIBE_SENT = "subscribe_msg_sent_event"


def _number(fields: dict, name: str) -> int:
    try:
        return int(fields.get(name) or 0)
    except (TypeError, ValueError):
        return 0


def mass_job_finished(message: Inbound, state: State) -> list[Reply]:
    """Keeps WeChat's counts (total, sent, filtered, errors) for the mass call's run."""
    f = message.fields
    counts = tuple(
        _number(f, name) for name in ("TotalCount", "SentCount", "FilterCount", "ErrorCount")
    )
    record_report(
        state.session,
        "mass",
        str(f.get("MsgID") or f.get("MsgId") or ""),
        state.now,
        status=str(f.get("Status") or ""),
        counts=counts,
    )
    return []


def template_job_finished(message: Inbound, state: State) -> list[Reply]:
    """Keeps whether WeChat delivered a campaign's template message ("success", "failed:…")."""
    f = message.fields
    status = str(f.get("Status") or "")
    delivered = status == "success"
    record_report(
        state.session,
        "template",
        str(f.get("MsgID") or f.get("MsgId") or ""),
        state.now,
        status=status,
        counts=(1, int(delivered), 0, int(not delivered)),
    )
    return []


def subscribe_notice_sent(message: Inbound, state: State) -> list[Reply]:
    """Keeps WeChat's result for each subscription notice it reports."""
    block = message.fields.get("SubscribeMsgSentEvent") or {}
    entries = block.get("List", []) if isinstance(block, dict) else []
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, dict):
            continue
        delivered = str(entry.get("ErrorCode") or "0") == "0"
        record_report(
            state.session,
            "subscribe",
            str(entry.get("MsgID") or ""),
            state.now,
            status=str(entry.get("ErrorStatus") or ""),
            counts=(1, int(delivered), 0, int(not delivered)),
            openid=message.openid,
        )
    return []


EVENTS = {
    MASS_JOB_FINISH: mass_job_finished,
    TEMPLATE_JOB_FINISH: template_job_finished,
    SUBSCRIBE_SENT: subscribe_notice_sent,
}
