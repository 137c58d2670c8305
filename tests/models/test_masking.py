"""Masking of personal numbers in text shown to staff."""

import logging

import pytest

from models.masking import install_log_masking, mask_text


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


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("卡号6222021234567840123", "卡号**** 0123"),
        ("卡号 6222 0212 3456 7840 123 谢谢", "卡号 **** 0123 谢谢"),
        ("6222-0212-3456-7840-123", "**** 0123"),
        ("我电话138 1234 5678", "我电话138****5678"),
        ("138-1234-5678，身份证320924198503120022", "138****5678，身份证320***********0022"),
        # Not Luhn-valid: an order or message number, left readable.
        ("单号 6222021234567840124", "单号 6222021234567840124"),
        # ... unless the worker calls it a card or an account: a mistyped digit is still theirs.
        ("我的卡号是6222021234567840124", "我的卡号是**** 0124"),
        ("工资卡：6222 0212 3456 7840 124。", "工资卡：**** 0124。"),
        ("银行账号 6222021234567840124", "银行账号 **** 0124"),
        ("卡号：6222021234567840124，6222021234567840125", "卡号：**** 0124，**** 0125"),
        ("6222021234567840124是我的工资卡", "**** 0124是我的工资卡"),
        ("卡号是多少？我的是 6222021234567840124", "卡号是多少？我的是 **** 0124"),
    ],
)
def test_cards_and_spaced_numbers_in_free_text_are_masked(raw, shown):
    assert mask_text(raw) == shown


def test_log_records_are_masked_before_any_handler_sees_them(caplog):
    install_log_masking()
    caplog.set_level(logging.INFO)
    log = logging.getLogger("bot.test")
    log.info("worker said %s", "卡号6222021234567840123")
    try:
        raise ValueError("身份证320924198503120022")
    except ValueError:
        log.exception("handler failed")
    assert "6222021234567840123" not in caplog.text and "**** 0123" in caplog.text
    assert "320924198503120022" not in caplog.text and "320***********0022" in caplog.text
