"""The words workers answer with: yes, no, submit, the form's control words.

One vocabulary for every place that asks (form questions, the confirmation
before cancelling a form, withdrawing an application or a sign-up, picking from
a list), so a word means the same wherever it is typed. Words are compared
after :func:`handlers.text.keyword` (folded, lower case, no closing "。").
"""

from __future__ import annotations

YES = frozenset(
    {"是", "是的", "对", "对的", "确定", "确认", "好", "好的", "要", "1", "y", "yes", "ok"}
)
NO = frozenset({"否", "不", "不是", "不要", "不用", "不用了", "算了", "2", "n", "no"})

# A form's yes/no question can also be answered "有 / 没有" (有没有医保?), and its
# consent question offers 同意 / 不同意.
AFFIRM = YES | {"有", "有的", "同意"}
DENY = NO | {"没有", "没", "无", "不同意"}

# Keeping the thing a question offers to give up ("确定要撤回吗?" → 保留).
KEEP = frozenset({"保留"})

# At a form's summary these send it in.
SUBMIT = frozenset({"确认", "提交", "确认提交", "确定", "是", "对", "ok"})

# The single thing just offered: start its form.
GO = frozenset(
    {"申请", "报名", "开始", "开始申请", "我要申请", "我要报名", "好", "好的", "是", "要"}
)

# Words accepted at every question of a form, and what they do.
CANCEL, RESTART, BACK, HANDOFF, RESUME = "cancel", "restart", "back", "handoff", "resume"
CONTROLS = {
    "取消": CANCEL,
    "重填": RESTART,
    "上一步": BACK,
    "返回": BACK,
    "人工": HANDOFF,
    "继续": RESUME,
}

# The photo step: done sending, or nothing to send now.
FINISH_PROOFS = frozenset({"完成", "好了", "发完了", "没有了", "结束"})
SKIP_PROOFS = frozenset({"跳过", "以后补", "稍后补交", "没有"})
# An optional question left empty.
NOTHING = frozenset({"无", "没有", "跳过"})

# Replies a worker sends twice when the bot is slow ("同意", "确认") fit a name's pattern.
NOT_NAMES = AFFIRM | DENY | SUBMIT | {"完成", "跳过", "申请", "报名", "帮扶", "竞赛", "你好"}
