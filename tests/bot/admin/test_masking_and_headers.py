"""Nothing staff can open shows a worker's ID, phone or card number unasked, not even the
logs; and every admin response forbids framing, inline script and caching."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import bot
import handlers
from bot.admin.headers import ADMIN_HEADERS
from tests.bot.admin.access_support import crawl, signed_in_as
from tests.helpers import WANG, Worker, apply, open_all_windows

PHONE = "13912345678"
CARD = "6222021234567840123"  # Luhn-valid, as the worker's bank gave it
SAID = [
    f"我身份证是{WANG}",
    f"我电话{PHONE}，有事打给我",
    f"卡号{CARD}",
    "卡号 6222 0212 3456 7840 123",  # the same card, read off in groups
]
PLANTED = (WANG, PHONE, CARD)


def unmasked(text: str) -> list[str]:
    """The planted numbers found in ``text``, however their digits are spaced."""
    digits_only = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    return [number for number in PLANTED if number in digits_only]


def plant(wechat, db, monkeypatch) -> None:
    """A worker types the numbers in chat, applies for aid with them, and one message
    trips a handler bug whose error quotes what the worker typed."""
    worker = Worker(wechat, "o_planter")
    for line in SAID:
        worker.say(line)
    open_all_windows(db)
    apply(Worker(wechat), "hardship")
    real = handlers.handle

    def failing(message, state):
        if CARD in message.text:
            raise ValueError(f"cannot read {message.text!r}")
        return real(message, state)

    monkeypatch.setattr(handlers, "handle", failing)
    worker.say(f"再说一遍卡号{CARD}")


def test_no_admin_page_and_no_log_line_shows_a_planted_number(app, caplog, wechat, db, monkeypatch):
    caplog.set_level(logging.DEBUG)
    plant(wechat, db, monkeypatch)
    admin = signed_in_as(app, "boss", "admin")
    pages = dict(crawl(admin))
    assert any("/admin/followers/" in path for path in pages)  # the transcripts were read
    assert any("/admin/applications/SY-" in path for path in pages)
    shown = {path: unmasked(r.get_data(as_text=True)) for path, r in pages.items()}
    assert {path: found for path, found in shown.items() if found} == {}
    assert "handler failed" in caplog.text and "**** 0123" in caplog.text
    assert unmasked(caplog.text) == []


def test_every_admin_response_forbids_framing_inline_script_and_caching(app, client):
    admin = signed_in_as(app, "boss", "admin")
    responses = [response for _, response in crawl(admin)]
    responses += [client.get("/admin/login"), admin.get("/admin/applications/SY-0000-000000")]
    assert len(responses) > 10
    for response in responses:
        for name, value in ADMIN_HEADERS.items():
            assert response.headers.get(name) == value, (response.request.path, name)
    policy = ADMIN_HEADERS["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert ADMIN_HEADERS["Cache-Control"] == "no-store"


def test_admin_templates_carry_no_inline_script_or_style():
    templates = Path(bot.__file__).parent / "templates" / "admin"
    for template in templates.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"<style|\son\w+=|\sstyle=", text), template.name
