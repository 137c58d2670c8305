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
