"""Benefits (普惠服务): the catalogue, and answers to questions in workers' own words.

Workers do not type the catalogue's titles. They write "老板拖欠三个月工资怎么办",
"会员咔丢了咋办" or "天太热了单位给不给高温费", so a question is matched by
meaning-bearing pieces rather than by exact keywords:

1. The text is folded (full-width forms, case) and cut into segments at
   punctuation and at stopwords (我, 的, 怎么, 吗, 能 …). Colloquial phrasings
   are folded onto one canonical word first (拖欠工资, 不发工资, 讨薪 → 欠薪), and
   the catalogue's own keywords are read as whole words, so the stopword 能
   is dropped from "能不能" but not from "技能".
2. Each segment gives its character 1-, 2- and 3-grams. A question needs no
   word segmenter: a typo (会员咔) still shares most of its grams with the
   right word, and a gram that many entries share (申请, 钱) weighs little.
3. Each entry is scored against its title, keywords and sample questions.
   Its score combines how much of the question the entry explains with how
   fully its best-matching phrase appears in the question, and lies in [0, 1].

One entry clearly ahead gets its answer; a few close together are offered as
a numbered choice; nothing good enough gets no answer, and the caller says it
did not understand. The thresholds are tuned on the labelled questions in
``tests/data/benefit_questions.toml`` (``python bench/intent_accuracy.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from handlers.forms import fold
from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from models.benefit import Benefit, benefits
from models.conversation import end_conversation, save_conversation

PICK = "benefit_pick"
KEYWORD = "普惠"

# Colloquial words and common typos folded onto the word the catalogue uses.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "欠薪": (
        "拖欠工资",
        "拖欠薪水",
        "拖着工资",
        "拖工资",
        "欠工资",
        "欠我工资",
        "不发工资",
        "没发工资",
        "工资没发",
        "工资不发",
        "工资还没发",
        "不给工资",
        "工资不给",
        "拿不到工资",
        "要不到工资",
        "讨薪",
        "讨工资",
        "要工资",
        "克扣工资",
        "扣工资",
        "拖欠",
        "拖了",
        "不给钱",
        "工钱",
    ),
    "高温津贴": (
        "高温补贴",
        "高温补助",
        "高温费",
        "高温津帖",
        "高温金",
        "防暑费",
        "防暑降温费",
        "降温费",
    ),
    "会员卡": (
        "工会卡",
        "工会会员卡",
        "会员服务卡",
        "工会会员服务卡",
        "服务卡",
        "会员咔",
    ),
    "入会": (
        "加入工会",
        "参加工会",
        "入工会",
        "加工会",
        "进工会",
        "成为会员",
        "成为工会会员",
        "当会员",
        "入会费",
    ),
    "法律援助": ("法援", "法律帮助", "免费律师", "请律师", "找律师", "法律咨询"),
    "打官司": ("起诉", "告公司", "告老板", "上法院", "去法院"),
    "仲裁": ("劳动仲裁", "劳动争议仲裁"),
    "12351": ("职工热线", "服务热线", "维权热线", "投诉电话", "工会电话"),
    "疗休养": ("疗修养", "疗养", "休养", "疗休"),
    "职工书屋": ("职工书房", "职工图书室", "图书室", "图书馆", "阅览室"),
    "借书": ("借几本书", "借本书", "借些书"),
    "联谊": ("联谊会", "联欢", "相亲会", "相亲活动", "交友活动"),
    "找对象": ("介绍对象", "找老婆", "找媳妇", "找女朋友", "找男朋友", "谈恋爱", "脱单"),
    "医疗互助": ("医疗互主", "互助医疗", "职工互助", "住院互助"),
    "两癌筛查": ("两爱筛查", "两癌检查", "两癌筛检", "两癌体检"),
    "两癌": ("两爱", "乳腺癌", "宫颈癌"),
    "妇科": ("妇检", "妇科检查"),
    "女职工": ("女工", "女同事", "女同志"),
    "劳模": ("劳磨", "劳动模范", "劳模们"),
    "驿站": ("驿栈", "爱心驿站", "户外驿站", "工会驿站", "服务站点"),
    "歇脚": ("歇歇脚", "歇一歇", "歇会", "休息一下"),
    "技能培训": ("技能陪训", "技术培训", "职业培训", "技能学习"),
    "培训": ("陪训", "培训班"),
    "学技术": ("学手艺", "学门手艺", "学门技术", "学点技术", "学技能"),
}

# Words that carry no meaning for matching: asking, pronouns, particles, and the
# union itself (almost every question names it).
STOPWORDS = frozenset(
    """
    我 我们 你 你们 您 他 她 咱 咱们 俺 的 地 得 了 着 过 吗 嘛 呢 吧 啊 呀 哦 么 啦 哈 嗯 噢
    是 是不是 有 有没有 没有 有么 能 能不能 可以 可不可以 可否 会不会 要 要不要 想 想要 需要
    请 请问 问 问一下 问问 一下 咨询一下 怎么 怎么样 怎样 如何 咋 咋办 怎么办 怎办 啥 什么
    哪 哪里 哪儿 哪些 在哪 在哪里 哪个 这 那 这个 那个 这些 就 都 还 也 和 跟 与 及 或 给
    在 去 到 对 把 被 让 帮 帮忙 帮我 一个 个 些 下 工会 县总工会 总工会 县 职工 单位 公司
    你好 您好 谢谢 好的 老师 领导 麻烦
    """.split()
)

MAX_CHARS = 200  # a question longer than this is read up to here
# The decision, tuned on the labelled set: an entry counts if it scores at
# least LOW; those within MARGIN of the best are "close"; one close entry is
# a clear answer, several are offered as a choice of at most CHOICES.
LOW = 0.3
MARGIN = 0.08
CHOICES = 3


# --- matching -------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """What the matcher reads of a benefit: its code and the phrases that point to it."""

    code: str
    words: tuple[str, ...]  # title and keywords: read as whole words
    phrases: tuple[str, ...]  # title, keywords and sample questions: scored against


@dataclass(frozen=True)
class Index:
    tokeniser: re.Pattern[str]
    canonical: dict[str, str]
    documents: tuple[tuple[frozenset[str], ...], ...]  # per entry, per phrase: its grams
    grams: tuple[frozenset[str], ...]  # per entry: all its grams
    weights: dict[str, float]
    unseen: float  # the weight of a gram no entry has


def entry_of(benefit: Benefit) -> Entry:
    matching = benefit.matching or {}
    words = tuple(str(w) for w in (benefit.title, *matching.get("keywords", ())) if w)
    questions = tuple(str(q) for q in matching.get("questions", ()) if q)
    return Entry(benefit.code, words, words + questions)


def _norm(text: str) -> str:
    return fold(text).lower()


def build_tokeniser(words: Iterable[str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern reading known words longest first, and the canonical form of each."""
    canonical: dict[str, str] = {}
    for word in words:
        canonical.setdefault(_norm(word), _norm(word))
    for target, variants in SYNONYMS.items():
        canonical[_norm(target)] = _norm(target)
        for variant in variants:
            canonical[_norm(variant)] = _norm(target)
    for word in STOPWORDS:
        canonical.setdefault(word, "")
    known = sorted((w for w in canonical if w), key=lambda w: (-len(w), w))
    alternatives = "|".join(re.escape(w) for w in known)
    return re.compile(rf"(?P<word>{alternatives})|(?P<char>[^\W_])|.", re.S), canonical


def segments(text: str, tokeniser: re.Pattern[str], canonical: dict[str, str]) -> list[str]:
    """The text's meaningful runs: known words alone, other letters run together."""
    found: list[str] = []
    run = ""
    for match in tokeniser.finditer(_norm(text)[:MAX_CHARS]):
        if match.group("char"):
            run += match.group("char")
            continue
        if run:
            found.append(run)
            run = ""
        word = match.group("word")
        if word and canonical[word]:
            found.append(canonical[word])
    if run:
        found.append(run)
    return found


def grams(parts: Iterable[str]) -> frozenset[str]:
    """Character 1- to 3-grams within each segment."""
    return frozenset(
        part[start : start + size]
        for part in parts
        for size in (1, 2, 3)
        for start in range(len(part) - size + 1)
    )


@lru_cache(maxsize=16)
def build_index(entries: tuple[Entry, ...]) -> Index:
    tokeniser, canonical = build_tokeniser(w for e in entries for w in e.words)
    documents = tuple(
        tuple(g for g in (grams(segments(p, tokeniser, canonical)) for p in e.phrases) if g)
        for e in entries
    )
    per_entry = tuple(frozenset().union(*docs) for docs in documents)
    frequency: dict[str, int] = {}
    for entry_grams in per_entry:
        for gram in entry_grams:
            frequency[gram] = frequency.get(gram, 0) + 1
    count = len(entries)

    def weight(gram: str, df: float) -> float:
        # Longer grams say more; grams that many entries share say less.
        return len(gram) * math.log((count + 1) / (df + 0.5))

    weights = {gram: weight(gram, df) for gram, df in frequency.items()}
    return Index(tokeniser, canonical, documents, per_entry, weights, math.log(count + 1 + 1))


def score_entries(index: Index, text: str) -> list[float]:
    """Each entry's score in [0, 1] for ``text``."""
    query = grams(segments(text, index.tokeniser, index.canonical))
    if not query:
        return [0.0] * len(index.grams)

    def w(gram: str) -> float:
        return index.weights.get(gram, len(gram) * index.unseen)

    total = sum(w(g) for g in query)
    scores = []
    for entry_grams, documents in zip(index.grams, index.documents, strict=True):
        covered = sum(w(g) for g in query & entry_grams) / total
        best_phrase = max(
            (sum(w(g) for g in query & doc) / sum(w(g) for g in doc) for doc in documents),
            default=0.0,
        )
        score = math.sqrt(covered * best_phrase)
        scores.append(min(1.0, max(0.0, score)))
    return scores


def rank(entries: Sequence[Benefit], text: str) -> list[tuple[Benefit, float]]:
    """The entries that share anything with ``text``, best first, with scores in [0, 1]."""
    if not entries or not text:
        return []
    index = build_index(tuple(entry_of(b) for b in entries))
    scores = score_entries(index, text)
    order = sorted(range(len(entries)), key=lambda i: (-scores[i], i))
    return [(entries[i], scores[i]) for i in order if scores[i] > 0]


def decide(ranked: Sequence[tuple[Benefit, float]]) -> list[Benefit]:
    """The entries to answer with: one (clear), two or three (close), or none."""
    if not ranked or ranked[0][1] < LOW:
        return []
    top = ranked[0][1]
    return [b for b, score in ranked[:CHOICES] if score >= LOW and top - score < MARGIN]


# --- replies --------------------------------------------------------------


def fill(state: State, text: str) -> str:
    """The union's own numbers and office in a staff-written text."""
    union = state.settings.union
    for key, value in (
        ("{hotline}", union.hotline),
        ("{provincial_hotline}", union.provincial_hotline),
        ("{office}", union.office),
        ("{union}", union.name),
    ):
        text = text.replace(key, value)
    return text


def describe(state: State, benefit: Benefit) -> str:
    """The answer card: title, answer, who, how, link."""
    lines = [f"【{benefit.title}】", fill(state, benefit.answer)]
    if benefit.audience:
        lines.append("对象：" + fill(state, benefit.audience))
    if benefit.how:
        lines.append("办理：" + fill(state, benefit.how))
    if benefit.link:
        lines.append("详情：" + benefit.link)
    lines.append(f"回复“{KEYWORD}”查看全部服务，回复“人工”找工作人员。")
    return "\n".join(lines)


def _offer(state: State, listed: Sequence[Benefit]) -> None:
    if state.follower is None:
        return
    data = {"step": "pick", "codes": [b.code for b in listed]}
    save_conversation(state.session, state.follower.id, PICK, data, state.now)


def _numbered(listed: Sequence[Benefit]) -> list[str]:
    return [f"{number} {benefit.title}" for number, benefit in enumerate(listed, 1)]


def answer_question(message: Inbound, state: State) -> list[Reply] | None:
    """Answer a free-text question from the catalogue; None if nothing fits."""
    chosen = decide(rank(benefits(state.session), message.text))
    if not chosen:
        return None
    if len(chosen) == 1:
        return [Text(describe(state, chosen[0]))]
    _offer(state, chosen)
    lines = ["您想问的是哪一项？回复数字查看：", *_numbered(chosen)]
    lines.append("都不是的话，请换个说法，或回复“人工”找工作人员。")
    return [Text("\n".join(lines))]


def benefits_menu(message: Inbound, state: State) -> list[Reply]:
    """``普惠``: the catalogue, numbered; a number shows that service."""
    listed = benefits(state.session)
    if not listed:
        return [Text(f"普惠服务正在整理中，请拨打职工服务热线 {state.settings.union.hotline} 咨询。")]
    _offer(state, listed)
    lines = ["会员普惠服务，回复数字查看：", *_numbered(listed)]
    lines.append("也可以直接提问，例如“怎么办会员卡”“高温补贴一个月多少钱”。")
    return [Text("\n".join(lines))]


def continue_pick(message: Inbound, state: State) -> list[Reply] | None:
    """The answer to a numbered list: show that service, or end the list and move on."""
    codes = state.conversation.data.get("codes", [])
    text = fold(message.text)
    end_conversation(state.session, state.conversation)
    state.conversation = None
    if not (re.fullmatch(r"[0-9]{1,3}", text) and 1 <= int(text) <= len(codes)):
        return None
    benefit = state.session.get(Benefit, codes[int(text) - 1])
    if benefit is None or not benefit.active:
        return [Text(f"这项服务已经下线了，回复“{KEYWORD}”查看最新列表。")]
    return [Text(describe(state, benefit))]
