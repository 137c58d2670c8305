"""What a worker's words point to, read from the text alone (no database, no handlers).

Shared by the free-text router (:mod:`handlers.intents`) and by the check that tells
a question asked inside a form from an answer (:mod:`handlers.asides`), so both read
"在哪比", "周六开门吗" or "工资被拖欠了" the same way. Each test is a small word list
rather than a model: the phrasings come from what workers type, and a wrong guess
must be easy to see and fix.
"""

from __future__ import annotations

import re
from typing import TypeVar

from models.aid import AidProgramme
from models.competition import Competition

Named = TypeVar("Named", AidProgramme, Competition)

QUESTION_WORDS = (
    "吗",
    "呢",
    "?",
    "什么",
    "啥",
    "怎么",
    "咋",
    "多少",
    "多久",
    "多长",
    "几",
    "哪",
    "条件",
    "材料",
    "要求",
    "能不能",
    "可不可以",
    "能否",
    "是不是",
    "标准",
    "如何",
    "符合",
    "有没有",
)
APPLY_WORDS = ("申请", "我要", "我想", "办理", "登记", "报名")


# "算不算", "要不要", "有没有": asking by A-not-A.
A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")


def is_question(text: str) -> bool:
    return any(word in text for word in QUESTION_WORDS) or bool(A_NOT_A.search(text))


def match_aliases(listed: list[Named], text: str) -> list[tuple[Named, int]]:
    """Items (programmes, competitions) whose aliases appear in ``text``, best first.

    Longer aliases are taken first and their text consumed, so "大病救助" does not
    also count as "救助".
    """
    aliases = sorted(
        (
            (alias, n)
            for n, item in enumerate(listed)
            for alias in item.definition.get("aliases", ())
        ),
        key=lambda pair: -len(pair[0]),
    )
    scores: dict[int, int] = {}
    rest = text
    for alias, n in aliases:
        if alias in rest:
            scores[n] = scores.get(n, 0) + len(alias) * rest.count(alias)
            rest = rest.replace(alias, "\0")
    return [(listed[n], score) for n, score in sorted(scores.items(), key=lambda kv: -kv[1])]


# What workers type to reach a service (the router's keywords, without the menu's
# numbers): inside a form they ask for the service, they do not answer the question.
SERVICE_WORDS = frozenset(
    {"帮助", "菜单", "help", "帮扶", "申请", "申请帮扶", "竞赛", "报名", "竞赛报名", "比赛"}
    | {"我的报名", "竞赛结果", "比赛结果", "普惠", "我的", "我的申请", "查询进度", "申请进度"}
    | {"查进度", "进度", "你好", "您好", "在吗", "在不在", "hi", "hello", "哈喽", "提醒我"}
    | {"地址", "电话"}
)


# Commands without a number: they mean the worker's own application(s) or sign-up(s).
WITHDRAW_WORDS = re.compile(r"撤回|撤销|撤掉")
SUPPLEMENT_WORDS = re.compile(r"补充|补交|补材料|补照片|补传")
PROGRESS_WORDS = re.compile(
    r"^(?:查询|查看|查|进度|状态)$|查进度|查询进度|审核进度|申请进度|办理进度|进展"
    r"|申请.{0,6}(?:到哪|进度|审核到|怎么样了|批了|批下来|结果|状态)"
    r"|(?:批了没|批下来没|审核完了|审批到哪)"
)
CANCEL_ENTRY_WORDS = re.compile(
    r"取消报名|取消比赛|取消参赛|退赛|不参加了|不想参加|不去比赛|不比了|不去比了"
    r"|(?:比赛|竞赛|比武|报名|报的).{0,6}(?:不去了|不参加了?|不比了|不报了|算了)"
)


def command_without_number(text: str) -> bool:
    return any(
        pattern.search(text)
        for pattern in (WITHDRAW_WORDS, SUPPLEMENT_WORDS, PROGRESS_WORDS, CANCEL_ENTRY_WORDS)
    )


def _words(*words: str) -> re.Pattern[str]:
    """One pattern for a word list, longest first (so 星期天 is read before 星期)."""
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def only(text: str, *patterns: re.Pattern[str]) -> bool:
    """Whether ``text`` is made of nothing but these words (and punctuation)."""
    rest = text
    for pattern in patterns:
        rest = pattern.sub("", rest)
    return not re.sub(r"[\W_]", "", rest)


# --- thanks and acknowledgements -------------------------------------------------

THANKS = _words(
    "谢谢", "谢啦", "谢了", "多谢", "感谢", "感恩", "辛苦", "麻烦", "费心", "太好了", "真好",
)  # fmt: skip
ACKS = _words(
    "好的", "好滴", "好嘞", "好", "行", "嗯", "嗯嗯", "哦", "噢", "知道", "明白", "收到", "了解",
    "懂", "ok", "okay", "可以", "没问题", "再见", "拜拜",
)  # fmt: skip
SMALL_FILLERS = _words(
    "你们", "你", "您", "工会", "大家", "了", "啦", "的", "啊", "呀", "哈", "哦", "非常", "太",
    "真是", "真", "很", "好多", "多", "老师", "同志", "领导", "我", "知道了", "那", "就", "先",
)  # fmt: skip


def small_talk(text: str) -> str | None:
    """``thanks`` for 谢谢 / 辛苦了, ``ack`` for 好的 / 知道了, None for anything else."""
    if not text or len(text) > 20 or not (THANKS.search(text) or ACKS.search(text)):
        return None
    if not only(text, THANKS, ACKS, SMALL_FILLERS):
        return None
    return "thanks" if THANKS.search(text) else "ack"


# --- the office: where, phone, hours -------------------------------------------------

WHERE = _words(
    "地址", "在哪", "在哪里", "在哪儿", "哪里", "哪儿", "哪块", "位置", "怎么走", "怎么去", "咋走",
    "地点",
)  # fmt: skip
PHONE = _words("电话", "号码", "座机", "联系方式", "怎么联系")
HOURS = _words(
    "几点", "开门", "关门", "上班", "下班", "办公", "营业", "周末", "节假日", "放假", "时间",
    "周一", "周二", "周三", "周四", "周五", "周六", "周日", "周天", "星期一", "星期二", "星期三",
    "星期四", "星期五", "星期六", "星期日", "星期天", "礼拜六", "礼拜天", "礼拜日", "今天",
    "明天", "现在", "中午", "晚上", "早上", "上午", "下午",
)  # fmt: skip
OFFICE_FILLERS = _words(
    "县总工会", "总工会", "县工会", "工会", "职工服务中心", "服务中心", "办公室", "你们", "你",
    "您", "请问", "问一下", "问下", "一下", "我想", "想", "知道", "告诉", "我", "的", "吗", "呢",
    "啊", "呀", "在", "是", "多少", "什么", "几", "号", "有", "没有", "能", "可以", "去", "要",
    "都", "不", "开", "门", "到", "和", "还", "人", "办事", "你好", "您好", "了", "吧",
)  # fmt: skip


def office_question(text: str) -> str | None:
    """``where`` / ``phone`` / ``hours`` when the text asks only about the union office:
    "你们在哪", "工会电话多少", "周六开门吗"; None for "两癌筛查在哪报名" (a benefit)
    or "在哪比" (the worker's contest), whose other words say what they are about."""
    if len(text) > 30 or not only(text, WHERE, PHONE, HOURS, OFFICE_FILLERS):
        return None
    for cue, pattern in (("phone", PHONE), ("where", WHERE), ("hours", HOURS)):
        if pattern.search(text):
            return cue
    return None


# --- contests: results, and "when / where is my contest" ------------------------------

CONTEST = _words("竞赛", "比赛", "比武", "技能赛", "大赛", "练兵", "评选")
RESULTS = _words("结果", "成绩", "名次", "获奖", "得奖", "排名", "公布", "谁赢", "第几名")
WHEN_WHERE = _words(
    "什么时候", "啥时候", "几时", "哪天", "几号", "几月", "几点", "时间", "日期", "在哪", "哪里",
    "哪儿", "地点", "地方", "什么地方", "啥地方",
)  # fmt: skip


def asks_results(text: str) -> bool:
    return bool(CONTEST.search(text) and RESULTS.search(text))


def asks_event(text: str) -> bool:
    """ "比赛啥时候", "在哪比", "几号比赛": when or where a contest is held."""
    return bool(WHEN_WHERE.search(text) and (CONTEST.search(text) or "比" in text))


# --- wages, dismissal, retirement ------------------------------------------------------

ARREARS = re.compile(
    r"欠薪|讨薪|讨工资|拖欠|克扣|扣工资|扣我工资|包工头跑|老板跑了"
    r"|欠.{0,6}(?:工资|工钱|薪水|血汗钱)"
    r"|(?:工资|工钱|薪水).{0,8}(?:没发|不发|没给|不给|没拿到|拿不到|要不到|没结|不结|拖|没到账)"
    r"|(?:不发|没发|不给|拿不到|要不到|没拿到)(?:工资|工钱)"
)
DISMISSAL = re.compile(
    r"辞退|开除|解雇|被炒|炒鱿鱼|炒了我|裁员|被裁|不让我干|不要我了|赶走|解除(?:劳动)?合同"
    r"|经济补偿|补偿金|赔偿金|n\+1|违法解除"
)
RETIRED = _words("退休", "退了休", "退下来", "养老金", "离休")


def labour_dispute(text: str) -> str | None:
    """``arrears`` for unpaid or docked wages, ``dismissal`` for being let go, or None."""
    if ARREARS.search(text):
        return "arrears"
    if DISMISSAL.search(text):
        return "dismissal"
    return None


def retired(text: str) -> bool:
    return bool(RETIRED.search(text)) and "退休年龄" not in text


# --- hardship in the worker's own words -------------------------------------------------

PEOPLE = _words(
    "我", "俺", "家", "爱人", "老婆", "老公", "媳妇", "孩子", "儿子", "女儿", "父亲", "母亲",
    "爸", "妈", "老人", "丈夫", "妻子", "公公", "婆婆",
)  # fmt: skip
ILLNESS = _words(
    "查出", "确诊", "住院", "癌", "生病", "病了", "病倒", "重病", "大病", "手术", "化疗", "瘫",
    "白血病", "尿毒症", "透析", "中风", "脑梗", "心梗", "肿瘤", "受伤", "工伤", "骨折",
)  # fmt: skip
HARDSHIP = _words(
    "困难", "没钱", "揭不开锅", "失业", "下岗", "没工作", "过不下去", "欠债", "借钱", "走了",
    "去世", "火灾", "房子塌", "遭灾", "撑不下去", "交不起", "付不起", "拖欠", "欠薪",
)  # fmt: skip


def hardship(text: str) -> str | None:
    """``illness`` or ``hardship`` when the worker describes their own or their family's
    situation ("我爱人查出肺癌"); None for a bare programme name ("大病帮扶")."""
    if not PEOPLE.search(text):
        return None
    if ILLNESS.search(text):
        return "illness"
    if HARDSHIP.search(text):
        return "hardship"
    return None
