"""``我的``: a worker's own records in one reply."""

from __future__ import annotations

from handlers import applications, entries
from handlers.messages import Inbound, Reply, Text
from handlers.state import State


def my_records(message: Inbound, state: State) -> list[Reply]:
    """Applications with their status, sign-ups and waitlist positions."""
    applied = applications.application_lines(state)
    entered = entries.my_entries_lines(state)
    if not applied and not entered:
        return [Text("您还没有帮扶申请或竞赛报名。回复“帮扶”申请帮扶，回复“竞赛”查看竞赛。")]
    parts = []
    if applied:
        parts.append(
            "帮扶申请：\n" + "\n".join(applied) + "\n回复“查询 编号”查看详情，“撤回 编号”撤回。"
        )
    else:
        parts.append("帮扶申请：暂无。")
    if entered:
        parts.append("竞赛报名：\n" + "\n".join(entered) + "\n回复“取消报名 序号”取消。")
    else:
        parts.append("竞赛报名：暂无。")
    return [Text("\n\n".join(parts))]
