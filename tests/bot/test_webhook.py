"""The callback only answers WeChat: signatures, replay window, safe mode, hostile XML."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
import xmltodict
from sqlalchemy import func, select

from bot.config import load_settings
from bot.simulator import FlaskTransport, Simulator
from bot.wechat.protocol import sign
from models import Delivery
from tests.conftest import AES_KEY, TOKEN, free_port, simulator_for


def verification_params(token=TOKEN, timestamp=None, echostr="echo-1234"):
    timestamp = str(timestamp or int(time.time()))
    return {
        "signature": sign(token, timestamp, "nonce1"),
        "timestamp": timestamp,
        "nonce": "nonce1",
        "echostr": echostr,
    }


class TestUrlVerification:
    def test_correct_signature_echoes_echostr(self, client):
        response = client.get("/wechat", query_string=verification_params())
        assert response.status_code == 200
        assert response.get_data(as_text=True) == "echo-1234"

    def test_wrong_token_is_forbidden(self, client):
        response = client.get("/wechat", query_string=verification_params(token="othertoken"))
        assert response.status_code == 403
        assert "echo-1234" not in response.get_data(as_text=True)

    def test_missing_signature_is_forbidden(self, client):
        response = client.get("/wechat", query_string={"echostr": "x"})
        assert response.status_code == 403

    def test_stale_timestamp_is_forbidden(self, client):
        params = verification_params(timestamp=int(time.time()) - 301)
        assert client.get("/wechat", query_string=params).status_code == 403


class TestSignedDelivery:
    def test_forged_signature_is_forbidden_and_not_recorded(self, wechat, db):
        params, body = wechat.signed_params(wechat.text_xml("o_worker", "帮助"))
        params["signature"] = "0" * 40
        answer = wechat.deliver(body, params)
        assert answer.status == 403
        assert db.query(Delivery).count() == 0

    def test_replayed_old_request_is_forbidden(self, wechat, db):
        stale = int(time.time()) - 3600
        params, body = wechat.signed_params(wechat.text_xml("o_worker", "帮助"), timestamp=stale)
        assert wechat.deliver(body, params).status == 403
        assert db.query(Delivery).count() == 0

    def test_window_is_configurable(self, make_app):
        app = make_app(wechat={"timestamp_window_seconds": 7200})
        sim = simulator_for(app)
        old = int(time.time()) - 3600
        params, body = sim.signed_params(sim.text_xml("o_worker", "帮助"), timestamp=old)
        assert sim.deliver(body, params).status == 200

    def test_empty_body_is_bad_request(self, wechat):
        params, _ = wechat.signed_params(b"")
        assert wechat.deliver(b"", params).status == 400


class TestHostileBodies:
    def test_external_entity_is_rejected_without_reading_the_file(self, wechat, tmp_path, db):
        secret = tmp_path / "secret.txt"
        secret.write_text("TOP-SECRET")
        body = (
            f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            "<xml><ToUserName>a</ToUserName><FromUserName>o_x</FromUserName>"
            "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content>"
            "<MsgId>1</MsgId></xml>"
        ).encode()
        answer = wechat.deliver(*reversed(wechat.signed_params(body)))
        assert answer.status == 400
        assert b"TOP-SECRET" not in answer.body
        assert db.query(Delivery).count() == 0

    def test_billion_laughs_is_rejected_quickly(self, wechat):
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";" * 1}' * 10 + '">'
            for i in range(1, 10)
        )
        body = f'<?xml version="1.0"?><!DOCTYPE xml [{entities}]><xml><a>&lol9;</a></xml>'.encode()
        started = time.monotonic()
        answer = wechat.deliver(*reversed(wechat.signed_params(body)))
        assert answer.status == 400
        assert time.monotonic() - started < 2

    @pytest.mark.parametrize(
        "body",
        [
            b"<xml><MsgType>text</MsgType>",
            b"not xml at all",
            b"<other><MsgType>text</MsgType></other>",
            b"<xml><ToUserName>a</ToUserName></xml>",
            "<xml>\u00e9\udc80</xml>".encode("utf-8", "surrogatepass"),
        ],
        ids=["unclosed", "text", "wrong-root", "no-msgtype", "bad-utf8"],
    )
    def test_malformed_xml_is_bad_request(self, wechat, body):
        assert wechat.deliver(*reversed(wechat.signed_params(body))).status == 400

    def test_oversized_body_is_413(self, wechat, db):
        body = wechat.text_xml("o_worker", "长" * 30_000)  # ~90 KiB of UTF-8
        assert wechat.deliver(body).status == 413
        assert db.query(Delivery).count() == 0

    def test_chunked_body_over_the_limit_is_413_under_gunicorn(self, wechat, tmp_path):
        """gunicorn hands a chunked body over with no Content-Length; werkzeug's stream
        then stopped at the limit without a word, and the cut body was refused as
        malformed XML (400) instead of 413."""
        port = free_port()
        env = {**os.environ, "UNIONBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
        env.pop("UNIONBOT_CONFIG", None)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--no-control-socket",
                "-w",
                "1",
                "-b",
                f"127.0.0.1:{port}",
                "bot:create_app()",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    requests.get(f"{base}/healthz", timeout=5)
                    break
                except requests.RequestException:
                    time.sleep(0.1)
            demo = load_settings(env={}).wechat
            params, body = Simulator(demo, FlaskTransport(None)).signed_params(
                wechat.text_xml("o_worker", "长" * 30_000)
            )
            chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
            answer = requests.post(f"{base}/wechat", params=params, data=chunks, timeout=10)
        finally:
            server.terminate()
            server.wait(10)
        assert answer.status_code == 413


HEAD = "<ToUserName>gh_x</ToUserName>"
SIGNED_BUT_MALFORMED = {
    "openid longer than the column": f"<FromUserName>{'o' * 65}</FromUserName>"
    "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>",
    "MsgId beyond a bigint": "<FromUserName>o_w</FromUserName><MsgType>text</MsgType>"
    f"<Content>hi</Content><MsgId>{2**64}</MsgId>",
    "MsgId not a number": "<FromUserName>o_w</FromUserName><MsgType>text</MsgType>"
    "<Content>hi</Content><MsgId>12ab</MsgId>",
    "CreateTime far in the future": "<FromUserName>o_w</FromUserName><MsgType>text</MsgType>"
    "<Content>hi</Content><MsgId>2</MsgId><CreateTime>9999999999999</CreateTime>",
    "Content with an attribute": "<FromUserName>o_w</FromUserName><MsgType>text</MsgType>"
    '<Content lang="zh">hi</Content><MsgId>3</MsgId>',
    "Content twice": "<FromUserName>o_w</FromUserName><MsgType>text</MsgType>"
    "<Content>a</Content><Content>b</Content><MsgId>4</MsgId>",
    "Content with children": "<FromUserName>o_w</FromUserName><MsgType>text</MsgType>"
    "<Content><b>hi</b></Content><MsgId>5</MsgId>",
    "nesting 5,000 deep": "<FromUserName>o_w</FromUserName><MsgType>text</MsgType>"
    "<Content>hi</Content><MsgId>6</MsgId>" + "<a>" * 5000 + "x" + "</a>" * 5000,
    "EventKey over 128 characters": "<FromUserName>o_w</FromUserName><MsgType>event</MsgType>"
    f"<Event>CLICK</Event><EventKey>{'K' * 129}</EventKey>",
    "MsgType over 32 characters": f"<FromUserName>o_w</FromUserName><MsgType>{'t' * 33}</MsgType>",
    "MediaId with an attribute": "<FromUserName>o_w</FromUserName><MsgType>image</MsgType>"
    '<MediaId a="1">M</MediaId><MsgId>7</MsgId>',
}


class TestSignedButMalformed:
    """Signed with our token, so past the 403 checks, yet not what WeChat sends: 400 with
    the field named, and nothing stored (each once became a 500)."""

    @pytest.mark.parametrize("body", SIGNED_BUT_MALFORMED.values(), ids=SIGNED_BUT_MALFORMED)
    def test_refused_with_400_and_nothing_stored(self, wechat, db, body):
        answer = wechat.deliver(f"<xml>{HEAD}{body}</xml>".encode())
        assert answer.status == 400
        assert db.scalar(select(func.count()).select_from(Delivery)) == 0

    def test_a_merely_unknown_message_type_gets_a_polite_reply(self, wechat):
        body = f"<xml>{HEAD}<FromUserName>o_w</FromUserName><MsgType>hologram</MsgType>"
        answer = wechat.deliver((body + "<MsgId>8</MsgId></xml>").encode())
        assert answer.status == 200 and answer.text


class TestRepliesStayWellFormed:
    @pytest.mark.parametrize(
        "typed",
        ["]]>", "a]]><Evil>x</Evil>", "<![CDATA[", "\x00\x07控制字符", "&amp; <b> \"'"],
    )
    def test_whatever_a_worker_sends_the_reply_parses(self, wechat, typed):
        # A shared location's label is echoed in the reply, so it carries the payload.
        body = wechat.xml(
            "o_worker",
            "location",
            Location_X=33.7,
            Location_Y=120.2,
            Scale=15,
            Label=typed,
            MsgId=wechat.next_msg_id(),
        )
        answer = wechat.deliver(body)
        assert answer.status == 200
        parsed = xmltodict.parse(answer.body)["xml"]  # raises if not well-formed
        assert set(parsed) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}
        expected = "".join(ch for ch in typed if ch >= " " or ch in "\t\n\r")
        assert parsed["Content"].startswith("已收到位置：" + expected + "。")


@pytest.fixture
def aes_app(make_app, app):
    return make_app(wechat={"encoding_aes_key": AES_KEY})


class TestSafeMode:
    def test_encrypted_round_trip_with_valid_msg_signature(self, aes_app):
        sim = simulator_for(aes_app)
        answer = sim.send_text("o_worker", "帮助")
        assert answer.status == 200
        envelope = xmltodict.parse(answer.body)["xml"]
        assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        assert envelope["MsgSignature"] == sign(
            TOKEN, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
        )
        assert "回复数字或关键词" in answer.text  # read_reply decrypted it
        assert answer.fields["ToUserName"] == "o_worker"

    def test_bad_msg_signature_is_forbidden(self, aes_app, db):
        sim = simulator_for(aes_app)
        params, body = sim.signed_params(sim.text_xml("o_worker", "帮助"))
        params["msg_signature"] = "f" * 40
        assert sim.deliver(body, params).status == 403
        assert db.query(Delivery).count() == 0

    def test_undecryptable_payload_is_bad_request(self, aes_app):
        sim = simulator_for(aes_app)
        params, _ = sim.signed_params(b"<xml/>")
        garbage = "bm90IHJlYWxseSBlbmNyeXB0ZWQ="
        params["msg_signature"] = sign(TOKEN, params["timestamp"], params["nonce"], garbage)
        body = f"<xml><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>".encode()
        assert sim.deliver(body, params).status == 400

    def test_plaintext_still_accepted_when_encryption_optional(self, aes_app):
        sim = simulator_for(aes_app, encrypt=False)
        answer = sim.send_text("o_worker", "帮助")
        assert answer.status == 200
        assert "回复数字或关键词" in answer.text

    def test_plaintext_refused_when_encryption_required(self, make_app, app):
        strict = make_app(wechat={"encoding_aes_key": AES_KEY, "require_encryption": True})
        plain = simulator_for(strict, encrypt=False)
        assert plain.send_text("o_worker", "帮助").status == 403
        encrypted = simulator_for(strict)
        assert encrypted.send_text("o_worker", "帮助").status == 200
