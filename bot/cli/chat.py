"""Talking to the account without WeChat (chat), and its menu (push-menu)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import click
import requests

from bot.cli.common import Fatal, config_option, prepare_database
from bot.config import load_settings
from bot.simulator import Answer, FlaskTransport, HttpTransport, Simulator
from bot.wechat.api import ApiError, connect
from handlers.menu import MENU_KEYS, MENU_LAYOUT
from models.database import make_engine, make_session_factory


@click.command("push-menu")
@config_option
def push_menu(config_path: str | None) -> None:
    """Create the account's custom menu through the WeChat API."""
    settings = load_settings(config_path)
    engine = make_engine(settings.database.url)
    prepare_database(settings, engine, seed=False)
    unknown = {item["key"] for top in MENU_LAYOUT["button"] for item in top["sub_button"]} - set(
        MENU_KEYS
    )
    if unknown:
        raise Fatal(f"menu keys the router does not know: {', '.join(sorted(unknown))}")
    api = connect(settings, make_session_factory(engine))
    try:
        api.create_menu(MENU_LAYOUT)
    except ApiError as exc:
        raise Fatal(f"WeChat refused the menu: {exc}") from None
    click.echo("menu created: " + " | ".join(top["name"] for top in MENU_LAYOUT["button"]))


CHAT_HELP = """命令：/图片  /位置 地名  /语音 文字  /点击 菜单键  /取消关注  /关注  /退出
菜单键：AID COMPETITION BENEFITS MINE STAFF HELP"""


@click.command()
@config_option
@click.option("--openid", default="o_chat_demo_worker", show_default=True, help="Who you are.")
@click.option("--url", help="Talk to a running server (e.g. http://127.0.0.1:8000) over HTTP.")
def chat(config_path: str | None, openid: str, url: str | None) -> None:
    """Talk to the bot in the terminal as a worker.

    Every line goes through the real webhook, signed (and encrypted in safe mode).
    """
    settings = load_settings(config_path)
    if url:
        transport = HttpTransport(url)
    else:
        from bot import create_app

        app = create_app(settings)
        prepare_database(settings, app.extensions["unionbot"].engine)
        transport = FlaskTransport(app.test_client())
    simulator = Simulator(settings.wechat, transport)
    try:
        run_chat(simulator, openid, sys.stdin, click.echo, interactive=sys.stdin.isatty())
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise Fatal(f"cannot reach {url}/wechat ({reason}): is `unionbot serve` running?") from None


def run_chat(
    simulator: Simulator,
    openid: str,
    lines: TextIO,
    echo: Callable[[str], None],
    interactive: bool,
) -> None:
    """Deliver each line as the worker ``openid`` would and print the bot's answers."""
    echo(f"以职工 {openid} 的身份与服务号对话（{'加密' if simulator.encrypt else '明文'}模式）。")
    echo(CHAT_HELP)
    _show(simulator.send_event(openid, "subscribe"), echo)
    while True:
        if interactive:
            echo("我> ", nl=False)
        line = lines.readline()
        if not line:
            break
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if line.strip() in ("/退出", "/quit", "/exit"):
            break
        _show(_send_line(simulator, openid, line), echo)


# Chat commands that send a media or location message: command → (MsgType, its fields).
MESSAGE_COMMANDS: dict[str, tuple[str, Callable[[str, int], dict]]] = {
    "/图片": (
        "image",
        lambda rest, n: {"PicUrl": "http://mmbiz.qpic.cn/demo.jpg", "MediaId": f"demo_media_{n}"},
    ),
    "/位置": (
        "location",
        lambda rest, n: {
            "Location_X": 33.7746,
            "Location_Y": 120.2547,
            "Scale": 15,
            "Label": rest or "射阳县合德镇",
        },
    ),
    "/语音": (
        "voice",
        lambda rest, n: {"MediaId": f"demo_voice_{n}", "Format": "amr", "Recognition": rest},
    ),
}
EVENT_COMMANDS = {"/点击": "CLICK", "/取消关注": "unsubscribe", "/关注": "subscribe"}


def _send_line(simulator: Simulator, openid: str, line: str) -> Answer:
    command, _, rest = line.strip().partition(" ")
    if command in MESSAGE_COMMANDS:
        kind, fields = MESSAGE_COMMANDS[command]
        msg_id = simulator.next_msg_id()
        return simulator.deliver(simulator.xml(openid, kind, **fields(rest, msg_id), MsgId=msg_id))
    if command in EVENT_COMMANDS:
        event = EVENT_COMMANDS[command]
        return simulator.send_event(
            openid, event, rest.strip().upper() if event == "CLICK" else None
        )
    return simulator.send_text(openid, line)


def _show(answer: Answer, echo: Callable[..., None]) -> None:
    if answer.status != 200:
        echo(f"[HTTP {answer.status}] {answer.body.decode(errors='replace')}")
    elif answer.text:
        echo("工会> " + answer.text.replace("\n", "\n      "))
    else:
        echo("（无回复）")
