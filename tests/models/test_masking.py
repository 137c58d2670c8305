"""Masking of personal numbers in text shown to staff."""

import pytest

from models.masking import mask_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("320924198503120022", "320***********0022"),
        ("11010519491231002x", "110***********002x"),
        ("电话13812345678。", "电话138****5678。"),
        ("订单号 123456789012345678901", "订单号 123456789012345678901"),
        ("", ""),
    ],
)
def test_mask_text(raw, shown):
    assert mask_text(raw) == shown
