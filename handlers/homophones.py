"""Keywords typed with the wrong character of the same sound (申情, 帮付, 竟赛).

A pinyin keyboard offers every character of a syllable, and workers in a hurry pick
the wrong one; the word still *sounds* right. So a window of the text that reads
like one of our keywords (same syllables, tones ignored, any reading of a
polyphone) is taken as that keyword. Only keywords are compared, never whole
sentences: many unrelated words share a pinyin (see ../shared/dependency-notes.md),
so the list stays short and made of words that mean something here.

Only routing reads the corrected text; what a worker types into a form is stored
as typed.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, pinyin

# Words worth correcting: the menu's and the commands' words, two or more characters.
KEYWORDS = (
    "申请", "帮扶", "竞赛", "比赛", "报名", "普惠", "撤回", "补充", "进度", "查询", "取消报名",
    "人工", "帮助", "菜单", "我的申请", "我的报名", "竞赛结果", "提醒我", "困难", "大病",
    "助学", "金秋助学", "送温暖", "清凉", "岗位", "会员卡", "入会", "法律援助", "地址", "电话",
    "谢谢", "辛苦",
)  # fmt: skip


@lru_cache(maxsize=4096)
def readings(char: str) -> frozenset[str]:
    """Every toneless reading of a Chinese character; empty for anything else."""
    if not "\u4e00" <= char <= "\u9fff":
        return frozenset()
    return frozenset(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


@lru_cache(maxsize=1)
def _by_first_sound() -> dict[str, tuple[str, ...]]:
    """Keywords by the syllables their first character can be read as, longest first."""
    index: dict[str, list[str]] = {}
    for word in sorted(KEYWORDS, key=len, reverse=True):
        for sound in readings(word[0]):
            index.setdefault(sound, []).append(word)
    return {sound: tuple(words) for sound, words in index.items()}


@lru_cache(maxsize=4096)  # several handlers read one message's corrected text
def correct(text: str) -> str:
    """``text`` with each window that sounds like a keyword replaced by the keyword.

    Read left to right, longer keywords first, so 取消报名 is read whole; a window
    spelled right is kept, and a corrected one is not read again. A window must share
    at least one character with the keyword (申情, 帮付): one where all differ is a
    different word that happens to sound alike (歇歇 → 谢谢 would thank a tired rider)."""
    sounds = [readings(char) for char in text]
    if not any(sounds):
        return text
    index = _by_first_sound()
    out, at = [], 0
    while at < len(text):
        candidates = {word for sound in sounds[at] for word in index.get(sound, ())}
        for word in sorted(candidates, key=len, reverse=True):
            end = at + len(word)
            window = text[at:end]
            if (
                end <= len(text)
                # A slip keeps some of the keyword's characters: a window in which every
                # character differs is another word that sounds alike (歇歇 is not 谢谢).
                and any(typed == char for typed, char in zip(window, word, strict=True))
                and all(sounds[at + n] & readings(char) for n, char in enumerate(word))
            ):
                out.append(word)
                at = end
                break
        else:
            out.append(text[at])
            at += 1
    return "".join(out)
