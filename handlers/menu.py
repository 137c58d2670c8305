"""The account's menu, welcome, help and fallback replies."""

from __future__ import annotations

from handlers import callback
from handlers.cues import small_talk
from handlers.messages import Inbound, Reply, Text
from handlers.office import call_back_time, office_line
from handlers.state import State
from handlers.text import fold
from models.handoff import phone_on_file
from models.masking import mask_phone

# The services a worker can reach, in menu order: (number, keyword, what it does).
SERVICES = (
    ("1", "帮扶", "困难职工帮扶、大病帮扶、金秋助学、冬送温暖"),
    ("2", "竞赛", "劳动和技能竞赛、“五小”创新报名"),
    ("3", "普惠", "会员普惠、法律援助、职工书屋等服务"),
    ("4", "我的", "查看我的申请和报名"),
    ("5", "人工", "联系工会工作人员"),
)

# Custom-menu CLICK keys and the keyword each one stands for.
MENU_KEYS = {
    "AID": "帮扶",
    "COMPETITION": "竞赛",
    "BENEFITS": "普惠",
    "MINE": "我的",
    "STAFF": "人工",
    "HELP": "帮助",
}

# The account's custom menu (``unionbot push-menu``): WeChat allows three
# top-level entries of at most five items each; every key is one of MENU_KEYS.
MENU_LAYOUT = {
    "button": [
        {
            "name": "帮扶申请",
            "sub_button": [
                {"type": "click", "name": "申请帮扶", "key": "AID"},
                {"type": "click", "name": "我的申请", "key": "MINE"},
                {"type": "click", "name": "人工服务", "key": "STAFF"},
            ],
        },
        {
            "name": "竞赛报名",
            "sub_button": [
                {"type": "click", "name": "竞赛列表", "key": "COMPETITION"},
                {"type": "click", "name": "我的报名", "key": "MINE"},
            ],
        },
        {
            "name": "普惠服务",
            "sub_button": [
                {"type": "click", "name": "会员普惠", "key": "BENEFITS"},
                {"type": "click", "name": "使用帮助", "key": "HELP"},
            ],
        },
    ]
}


def menu_text(state: State) -> str:
    union = state.settings.union
    lines = ["回复数字或关键词："]
    lines += [f"{number} {keyword}｜{summary}" for number, keyword, summary in SERVICES]
    lines.append(f"职工服务热线 {union.hotline}（江苏省总工会 {union.provincial_hotline}）")
    return "\n".join(lines)


def welcome(message: Inbound, state: State) -> list[Reply]:
    """Greets a new or returning follower and lists what the account can do."""
    union = state.settings.union
    return [
        Text(
            f"欢迎关注{union.name}！我们为职工提供帮扶申请、竞赛报名和普惠服务。\n"
            + menu_text(state)
        )
    ]


def greet(message: Inbound, state: State) -> list[Reply]:
    """Answers 你好 / 在吗 with a greeting and the menu."""
    return [Text("您好！有什么可以帮您？\n" + menu_text(state))]


def show_menu(message: Inbound, state: State) -> list[Reply]:
    """Answers 帮助 / 菜单 / ? with the menu."""
    return [Text(menu_text(state))]


def not_understood(message: Inbound, state: State) -> list[Reply]:
    """Answers text the router could not place: says so, and shows the way on."""
    return [Text("抱歉，没听懂您的意思。\n" + menu_text(state))]


def unsupported(message: Inbound, state: State) -> list[Reply]:
    """Answers message types the account does not handle (stickers, files, mini-program cards)."""
    return [Text("暂时无法处理这类消息，请发送文字。\n" + menu_text(state))]


def media_outside_form(message: Inbound, state: State) -> list[Reply]:
    """Answers a photo, video or voice note sent when no form is asking for one."""
    return [Text("收到。照片等材料请在申请过程中按提示发送；回复“帮助”查看菜单。")]


def voice_not_recognised(message: Inbound, state: State) -> list[Reply]:
    """Answers a voice note WeChat could not turn into text."""
    return [Text("抱歉，没能识别这段语音，请再说一遍或直接发送文字。")]


def staff_contact_text(state: State) -> str:
    """For a worker who asks for a person inside a form (the form is the topic):
    recorded, when staff will call and on which number, and how to reach someone now."""
    union = state.settings.union
    phone = phone_on_file(state.session, state.follower.id)
    number = f"（号码 {mask_phone(phone)}）" if phone else ""
    return (
        f"已记录您的人工服务请求，工作人员会在{call_back_time(state)}给您回电{number}。"
        f"急事请拨打职工服务热线 {union.hotline}（江苏省总工会 {union.provincial_hotline}），"
        f"或到{office_line(state)}。"
    )


def staff_contact(message: Inbound, state: State) -> list[Reply]:
    """``人工``: records a request for a call back and asks what it is about."""
    return callback.staff_contact(message, state)


def small_talk_reply(message: Inbound, state: State) -> list[Reply]:
    """ "谢谢", "好的", "辛苦了": a short, warm reply, never "没听懂"."""
    if small_talk(fold(message.text).lower()) == "thanks":
        return [Text("不客气，能帮上忙就好。还有事随时发消息给我们。")]
    return [Text("好的。有需要随时回复“帮助”查看菜单。")]


def location_received(message: Inbound, state: State) -> list[Reply]:
    """Acknowledges a location the worker chose to send."""
    label = message.fields.get("Label") or "您的位置"
    return [Text(f"已收到位置：{label}。如需帮助请回复“帮助”。")]


def link_received(message: Inbound, state: State) -> list[Reply]:
    """Acknowledges a shared link; the account does not act on links."""
    return [Text("收到您分享的链接。如需办理业务，请回复“帮助”查看菜单。")]
