"""Mask personal identifiers wherever text is shown to staff or written to logs (PIPL).

:func:`mask_text` is the one function for free text: ID numbers, bank card numbers and
mobile numbers, wherever they sit in a sentence ("我电话138…", "卡号6222…"). Pages,
exports and log records (see :func:`install_log_masking`) all go through it.
"""

from __future__ import annotations

import logging
import re

# An 18-character resident ID (GB 11643), not part of a longer run of digits.
ID_NUMBER = re.compile(r"(?<![0-9])(\d{3})\d{11}(\d{3}[0-9Xx])(?![0-9])")
# 16 to 19 digits, as typed or read out in groups ("6222 0212 3456 7840 123").
CARD_NUMBER = re.compile(r"(?<![0-9])\d(?:[ -]?\d){15,18}(?![0-9])")
# Words that make a long number near them a card or an account ("卡号是…", "工资卡：…，…",
# "…是我的卡号", "账号 …"), looked for this many characters before and after it (before:
# room for a first card number of a list, spaced in groups, and a few words).
CARD_WORD = re.compile(r"卡|账号|帐号|账户|帐户")
CARD_WORD_BEFORE, CARD_WORD_AFTER = 40, 10
# An 11-digit mainland mobile number, also as "138 1234 5678" or "138-1234-5678".
MOBILE = re.compile(r"(?<![0-9])(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?![0-9])")


def luhn_ok(digits: str) -> bool:
    """The check every bank card number passes (ISO/IEC 7812)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def mask_id_number(value: str) -> str:
    """``320924198503120022`` → ``320***********0022``."""
    return ID_NUMBER.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), value)


def _mask_card_match(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    # Luhn-valid runs, or any run the words around it call a card or an account (a worker's
    # mistyped card is still theirs; a number masked for a card word nearby that was not
    # one errs on the safe side); order numbers, MsgIds and timestamps stay readable.
    text, start, end = match.string, match.start(), match.end()
    named = CARD_WORD.search(text, max(start - CARD_WORD_BEFORE, 0), start) or CARD_WORD.search(
        text, end, end + CARD_WORD_AFTER
    )
    return mask_bank_card(digits) if named or luhn_ok(digits) else match.group(0)


def mask_text(value: str | None) -> str:
    """Mask every ID number, bank card number and mobile number found in free text."""
    if not value:
        return ""
    # ID numbers first: an ID may pass the Luhn check too, and keeps its own shape.
    masked = CARD_NUMBER.sub(_mask_card_match, mask_id_number(value))
    return MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), masked)


def mask_bank_card(value: str) -> str:
    """Only the last four digits: ``**** 1234``."""
    return f"**** {value[-4:]}" if len(value) > 4 else "****"


def mask_name(value: str) -> str:
    """For the public notice (公示): ``王秀梅`` → ``王*梅``, ``王梅`` → ``王*``."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_value(kind: str, value: str) -> str:
    """A form answer as shown back on screen, masked by the field's kind."""
    if kind == "bank_card":
        return mask_bank_card(value)
    return mask_text(value)


def mask_phone(value: str) -> str:
    """A mobile number as ``138****5678``; any other number keeps its last four digits only."""
    masked = mask_text(value)
    if masked != value:
        return masked
    digits = sum(c.isdigit() for c in value)
    if digits <= 4:
        return value
    seen, out = 0, []
    for char in value:
        if char.isdigit():
            seen += 1
            out.append(char if seen > digits - 4 else "*")
        else:
            out.append(char)
    return "".join(out)


class MaskingRecordFactory:
    """Builds every log record with its message and traceback already masked.

    A filter on handlers would miss handlers added after start (gunicorn's, a test's
    capture, an operator's file handler), and a filter on a logger misses its children's
    records; the record factory sees every record in the process, before any handler.
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must still be logged, as before
            return record
        record.msg, record.args = mask_text(message), None
        if record.exc_info:
            # Formatters reuse exc_text when it is set, so the traceback is masked too.
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return record


def install_log_masking() -> None:
    """Mask personal numbers in every log record from now on; safe to call again."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, MaskingRecordFactory):
        logging.setLogRecordFactory(MaskingRecordFactory(factory))
