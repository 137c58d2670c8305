"""The words workers answer with: yes, no, submit, the form's control words.

One vocabulary for every place that asks (form questions, the confirmation
before cancelling a form, withdrawing an application or a sign-up, picking from
a list), so a word means the same wherever it is typed. Words are compared
after :func:`handlers.text.keyword` (folded, lower case, no closing "。").
"""

from __future__ import annotations

import re

YES = frozenset(
    {"是", "是的", "对", "对的", "确定", "确认", "好", "好的", "要", "1", "y", "yes", "ok"}
    | {"行", "嗯", "嗯嗯", "可以", "没问题", "好嘞", "中", "对对", "是啊", "对啊"}
    | {"嗯呢", "嗯哪", "是滴", "对头", "好滴", "行的", "可以的", "需要", "要的", "好啊"}
)
NO = frozenset(
    {"否", "不", "不是", "不要", "不用", "不用了", "算了", "2", "n", "no"}
    | {"不行", "不对", "不可以", "不了", "别"}
    | {"不是的", "不需要", "不用的", "不要的", "没得"}
)

# A form's yes/no question can also be answered "有 / 没有" (有没有医保?), and its
# consent question offers 同意 / 不同意.
AFFIRM = YES | {"有", "有的", "同意"}
DENY = NO | {"没有", "没", "无", "不同意"}
# The privacy consent wants a clear word: 嗯 or 好 will do, 有/没有 answer another question.
CONSENT_YES = (AFFIRM - {"有", "有的"}) | {"我同意", "同意的", "同意了", "愿意"}
CONSENT_NO = (DENY - {"没有", "没", "无"}) | {"我不同意", "不愿意"}

# Keeping the thing a question offers to give up ("确定要撤回吗?" → 保留).
KEEP = frozenset({"保留"})

# At a form's summary only these send it in: a bare 是/对/好 there may answer something
# else the worker had in mind ("取消?" … "是"), and a submission cannot be taken back.
SUBMIT = frozenset({"确认", "提交", "确认提交", "确认无误", "提交申请", "确认无误提交"})

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

# The same, as people phrase them; checked in this order, so "太乱了 取消 我重新来" cancels.
CONTROL_PHRASES = (
    (
        CANCEL,
        (
            "取消",
            "不要了",
            "不申请了",
            "不填了",
            "不报了",
            "不想填了",
            "不弄了",
            "放弃",
            "那算了",
            "算了吧",
        ),
    ),
    (RESTART, ("重填", "重新填", "重新来", "从头来", "重新开始", "从头开始")),
    (BACK, ("上一步", "返回", "退回", "上一题", "返回上一步", "回上一步", "回到上一")),
    (HANDOFF, ("人工", "客服", "真人", "工作人员")),
    (RESUME, ("继续",)),
)
# Words around a control word that do not change it: "算了 取消", "我要重新填", "找人工".
FILLERS = re.compile(r"算了|我要|我想|帮我|还是|一下|[我要想吧啊呀哦了的请找那就\s]")


BARE_PHRASES = {
    # Two characters at least: "不要了" bare is "不", which is also a plain no.
    control: {bare for bare in (FILLERS.sub("", p) for p in phrases) if len(bare) >= 2}
    for control, phrases in CONTROL_PHRASES
}


def control_in(text: str, *, strict: bool) -> str | None:
    """The control a message asks for, or None.

    ``strict`` (where any text could be an answer, e.g. a reason): only a control word,
    alone or with filler words. Otherwise (the answer was not valid, or no answer is
    being asked for) a control word anywhere in a short message counts.
    """
    if text in CONTROLS:
        return CONTROLS[text]
    bare = FILLERS.sub("", text)
    for control, phrases in CONTROL_PHRASES:
        # "那我不报了" is "不报了" with fillers around it: compare both without fillers.
        if text in phrases or (bare and bare in BARE_PHRASES[control]):
            return control
    if strict or len(text) > 20:
        return None
    for control, phrases in CONTROL_PHRASES:
        if any(phrase in text for phrase in phrases):
            return control
    return None


# Keeping an answer the form doubted ("收入4元？"): anything else is taken as a new answer,
# so digits ("1" is a yes elsewhere) are not among them.
KEEP_DOUBTED = frozenset(w for w in YES if not w.isdigit()) | {"确认", "保留", "没错", "正确"}

# Keeping an earlier answer when walking back through a form.
UNCHANGED = frozenset({"不变", "不用改", "不改", "没变", "一样", "照旧", "没错", "原来的"})

# The photo step: done sending, or nothing to send now.
FINISH_PROOFS = frozenset(
    {"完成", "好了", "发完了", "没有了", "结束", "发好了", "就这些", "没了", "都发了", "传完了"}
    | {"就这些了", "就这么多", "发完啦", "都发完了", "已发完", "传好了", "拍完了", "完了"}
)
SKIP_PROOFS = frozenset({"跳过", "以后补", "稍后补交", "没有"})
# An optional question left empty.
NOTHING = frozenset({"无", "没有", "跳过"} | {"不好说", "说不好", "不清楚", "不知道", "不确定"})

# Replies a worker sends twice when the bot is slow ("同意", "确认") fit a name's pattern.
NOT_NAMES = AFFIRM | DENY | SUBMIT | {"完成", "跳过", "申请", "报名", "帮扶", "竞赛", "谢谢"}
# A greeting where a name is asked: the form asks whether that really is the name.
GREETINGS = frozenset(
    {"你好", "您好", "你好啊", "您好啊", "在吗", "在不在", "有人吗", "喂", "哈喽", "hello", "hi"}
    | {"早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "大家好"}
)
