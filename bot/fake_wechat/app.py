"""HTTP face of the fake: ``/cgi-bin/…`` as WeChat serves it, ``/_fake/…`` to steer it."""

from __future__ import annotations

import html
import json
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request

from bot.fake_wechat.state import FakeWeChat, Fault, WeChatError

Endpoint = Callable[[FakeWeChat, dict, Any], dict]


def _png() -> bytes:
    """A 2×2 red PNG: what media/get serves for any live media id."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


# path -> (HTTP method, endpoint). Every endpoint but the two token ones needs a token.
ENDPOINTS: dict[str, tuple[str, Endpoint]] = {
    "message/custom/send": ("POST", lambda s, p, b: s.custom_send(b)),
    "message/template/send": ("POST", lambda s, p, b: s.template_send(b)),
    "message/subscribe/bizsend": ("POST", lambda s, p, b: s.subscribe_send(b)),
    "message/mass/send": ("POST", lambda s, p, b: s.mass_send(b, to_all_or_tag=False)),
    "message/mass/sendall": ("POST", lambda s, p, b: s.mass_send(b, to_all_or_tag=True)),
    "message/mass/get": ("POST", lambda s, p, b: s.mass_get(b)),
    "menu/create": ("POST", lambda s, p, b: s.menu_create(b)),
    "menu/get": ("GET", lambda s, p, b: s.menu_get()),
    "user/info": ("GET", lambda s, p, b: s.user_info(p.get("openid", ""))),
    "tags/create": ("POST", lambda s, p, b: s.tag_create(b)),
    "tags/get": ("GET", lambda s, p, b: s.tags_get()),
    "tags/members/batchtagging": ("POST", lambda s, p, b: s.tag_members_add(b)),
    "user/tag/get": ("POST", lambda s, p, b: s.tag_followers(b)),
}


def create_fake_app(fake: FakeWeChat) -> Flask:
    app = Flask("fake_wechat")
    app.json.ensure_ascii = False
    app.extensions["fake_wechat"] = fake

    def answer(path: str, body: Any, run: Callable[[], dict | Response]) -> Response:
        params = request.args.to_dict()
        with fake.lock:
            fault = fake.take_fault(path)
        if fault and fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        with fake.lock:
            if fault and fault.http_status:
                fake.record(path, request.method, params, body, {"errcode": -2})
                return Response("upstream unavailable", status=fault.http_status)
            try:
                if fault and fault.errcode is not None:
                    raise WeChatError(fault.errcode, "injected error")
                result = run()
            except WeChatError as err:
                result = {"errcode": err.errcode, "errmsg": err.errmsg, **err.extra}
            fake.record(
                path, request.method, params, body, result if isinstance(result, dict) else {}
            )
        return result if isinstance(result, Response) else jsonify(result)

    def json_body() -> Any:
        raw = request.get_data()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return "<not json>"

    @app.get("/cgi-bin/token")
    def token():
        args = request.args
        if args.get("grant_type") != "client_credential":
            return answer("token", None, lambda: {"errcode": 40002, "errmsg": "invalid grant_type"})
        return answer(
            "token", None, lambda: fake.classic(args.get("appid", ""), args.get("secret", ""))
        )

    @app.post("/cgi-bin/stable_token")
    def stable_token():
        body = json_body()
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            return answer(
                "stable_token", body, lambda: {"errcode": 40002, "errmsg": "invalid grant_type"}
            )
        return answer(
            "stable_token",
            body,
            lambda: fake.stable(
                body.get("appid", ""), body.get("secret", ""), bool(body.get("force_refresh"))
            ),
        )

    @app.get("/cgi-bin/media/get")
    def media_get():
        media_id = request.args.get("media_id", "")

        def run():
            fake.check_token(request.args.get("access_token"))
            fake.check_media(media_id)
            return Response(
                PNG,
                mimetype="image/png",
                headers={"Content-Disposition": f'attachment; filename="{media_id[:40]}.png"'},
            )

        return answer("media/get", None, run)

    @app.route("/cgi-bin/<path:path>", methods=["GET", "POST"])
    def api(path: str):
        body = json_body() if request.method == "POST" else None
        endpoint = ENDPOINTS.get(path)

        def run():
            if endpoint is None:
                raise WeChatError(48001, "api unauthorized")
            fake.check_token(request.args.get("access_token"))
            method, call = endpoint
            if method != request.method:
                raise WeChatError(
                    43002, "require POST method" if method == "POST" else "require GET method"
                )
            if method == "POST" and not isinstance(body, dict):
                raise WeChatError(
                    44002 if body is None else 47001,
                    "empty post data" if body is None else "data format error",
                )
            return call(fake, request.args.to_dict(), body)

        return answer(path, body, run)

    # -- steering (tests and the demo) --------------------------------------------------

    @app.post("/_fake/users")
    def set_user():
        body = request.get_json(force=True)
        fake.set_user(
            body["openid"],
            subscribed=body.get("subscribed", True),
            interacted_ago=body.get("interacted_ago", 0),
        )
        return jsonify(ok=True)

    @app.post("/_fake/faults")
    def add_fault():
        body = request.get_json(force=True)
        fake.inject(Fault(**body))
        return jsonify(ok=True)

    @app.delete("/_fake/faults")
    def clear_faults():
        fake.clear_faults()
        return jsonify(ok=True)

    @app.post("/_fake/reset")
    def reset():
        fake.reset()
        return jsonify(ok=True)

    @app.get("/_fake/calls")
    def calls():
        with fake.lock:
            return jsonify(calls=list(fake.calls))

    @app.get("/_fake/")
    def calls_page():
        with fake.lock:
            rows = list(reversed(fake.calls[-200:]))
        body = "".join(
            f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(c['at']))}</td>"
            f"<td>{html.escape(c['path'])}</td><td>{c['errcode']}</td>"
            f"<td><pre>{html.escape(_pretty(c['json']))}</pre></td></tr>"
            for c in rows
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>模拟微信接口调用记录</title>"
            "<h2>模拟微信接口：收到的调用（最新在前）</h2><table border=1 cellpadding=4>"
            f"<tr><th>时间</th><th>接口</th><th>errcode</th><th>内容</th></tr>{body}</table>"
        )
        return Response(page, mimetype="text/html")

    return app
