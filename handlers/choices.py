"""Which option a worker means, by number or in their own words.

A choice question lists numbered options, but workers answer "我老公", "儿子",
"丈夫患病住院" or "送外卖的". Each option may carry synonyms in the data
(``fields.toml``: ``synonyms = { 配偶 = ["老公", "爱人", …] }``); an answer picks
the option whose text or synonym it is, or the one whose words it contains. When
the words point to two options the worker is asked which, with both numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from handlers.numbers import Unreadable, read_quantity

# "第二个", "选2", "2号", "第3项": the number of an option, in any of these wrappings.
ORDINAL = re.compile(r"(?:我)?(?:选|选择)?第?(.+?)(?:个|项|种|号|条)?")


class Unclear(ValueError):
    """The answer fits several options (``options``: their numbers and texts) or none."""

    def __init__(self, options: list[tuple[int, str]]) -> None:
        super().__init__(options)
        self.options = options


def _number(text: str, count: int) -> int | None:
    match = ORDINAL.fullmatch(text)
    if not match:
        return None
    try:
        quantity = read_quantity(match.group(1))
    except (Unreadable, ValueError):
        return None
    number = quantity.value
    if quantity.approximate or number != number.to_integral() or not 1 <= number <= count:
        return None
    return int(number)


def _phrases(
    choices: Sequence[str], synonyms: Mapping[str, Sequence[str]]
) -> list[tuple[str, str]]:
    """(phrase, option) for every option text and synonym, longest first."""
    pairs = [(choice, choice) for choice in choices]
    pairs += [(word, option) for option, words in synonyms.items() for word in words]
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def _mentioned(text: str, phrases: list[tuple[str, str]]) -> list[str]:
    """Options whose phrases occur in ``text``. A phrase inside a longer one that also
    occurs there does not count ("我" inside "我老公"); a single character counts only as
    the whole answer, as it is part of too many words."""
    taken: list[tuple[int, int]] = []
    options: list[str] = []
    for phrase, option in phrases:
        if len(phrase) < 2:
            continue
        for match in re.finditer(re.escape(phrase), text):
            span = match.span()
            if any(start <= span[0] and span[1] <= end for start, end in taken):
                continue
            taken.append(span)
            if option not in options:
                options.append(option)
    return options


def pick(text: str, choices: Sequence[str], synonyms: Mapping[str, Sequence[str]] = ()) -> str:
    """The option ``text`` means; raises :class:`Unclear` with the options it might mean."""
    synonyms = dict(synonyms or {})
    value = re.sub(r"\s+", "", text)
    number = _number(value, len(choices))
    if number is not None:
        return choices[number - 1]
    phrases = _phrases(choices, synonyms)
    exact = [option for phrase, option in phrases if phrase.lower() == value.lower()]
    if exact:
        return exact[0]
    options = _mentioned(value, phrases)
    if not options and value:  # a part of an option's text: "农合" for 新农合
        options = [choice for choice in choices if value in choice]
    if len(options) == 1:
        return options[0]
    listed = [(n, choice) for n, choice in enumerate(choices, 1) if choice in options]
    raise Unclear(listed)
