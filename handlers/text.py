"""What workers type, made comparable: one place for folding phone-keyboard and voice input.

Phones send full-width digits and letters, spaces inside numbers and "？" for "?";
WeChat's speech recognition ends every sentence with "。". Matching a keyword,
a yes/no or a number must not depend on any of that, but free text (a reason, a
unit's name) is stored as the worker wrote it, so there are two forms:
:func:`trimmed` for what is kept and :func:`fold` for what is compared or parsed.
"""

from __future__ import annotations

import re
import unicodedata

# Closing punctuation is not part of an answer ("同意。", "好的！", "4?").
END_PUNCTUATION = " 。.!?,;:~、…"


def trimmed(text: str | None) -> str:
    """Free text as typed: spaces trimmed and collapsed, Chinese punctuation kept."""
    return re.sub(r"\s+", " ", text or "").strip()


def fold(text: str | None) -> str:
    """For matching and parsing: full-width forms folded (NFKC), spaces collapsed,
    punctuation around the text dropped. Case is kept (ID numbers end in X)."""
    return trimmed(unicodedata.normalize("NFKC", text or "")).strip(END_PUNCTUATION)


def keyword(text: str | None) -> str:
    """A message as a keyword: folded and lower-cased; a lone "?" stays "?" (it asks for
    the menu)."""
    return fold(text).lower() or trimmed(unicodedata.normalize("NFKC", text or ""))
