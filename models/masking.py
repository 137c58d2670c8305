"""Mask personal identifiers wherever text is shown to staff or written to logs (PIPL)."""

from __future__ import annotations

import re

# An 18-character resident ID (GB 11643) or an 11-digit mainland mobile number,
# not part of a longer run of digits.
ID_NUMBER = re.compile(r"(?<![0-9])(\d{3})\d{11}(\d{3}[0-9Xx])(?![0-9])")
MOBILE = re.compile(r"(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def mask_id_number(value: str) -> str:
    """``320924198503120022`` → ``320***********0022``."""
    return ID_NUMBER.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), value)


def mask_text(value: str | None) -> str:
    """Mask every ID number and mobile number found in free text."""
    if not value:
        return ""
    masked = mask_id_number(value)
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
