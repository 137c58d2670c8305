"""退订 and 订阅: a worker stops or restarts the union's campaign messages.

Only campaigns (春送岗位, 夏送清凉 … broadcasts and their notices) are stopped: what a
worker is told about their own applications and sign-ups is not a campaign and still
arrives, and the reply says so, so nobody unsubscribes from news of their own aid.
"""

from __future__ import annotations

from handlers.messages import Inbound, Reply, Text
from handlers.state import State
from models.audience import set_opt_out
from models.windows import SHANGHAI

OPT_OUT_WORDS = ("退订", "取消订阅", "不要推送", "别再发了", "不要再发了")
OPT_IN_WORDS = ("订阅", "恢复订阅", "重新订阅")


def opt_out(message: Inbound, state: State) -> list[Reply]:
    """Stops campaign messages to this worker, from now, and says what still arrives."""
    set_opt_out(state.session, state.follower.id, True, state.now)
    return [
        Text(
            f"已为您退订工会活动消息（{_when(state)}起）：春送岗位、夏送清凉、金秋助学、"
            "冬送温暖等群发和活动通知不再发给您。\n"
            "您自己的帮扶申请、竞赛报名的办理通知仍会照常发送。\n"
            "想重新接收，回复“订阅”。"
        )
    ]


def opt_in(message: Inbound, state: State) -> list[Reply]:
    """Turns campaign messages back on."""
    set_opt_out(state.session, state.follower.id, False, state.now)
    return [Text(f"已为您恢复接收工会活动消息（{_when(state)}起）。不想接收时，回复“退订”。")]


def _when(state: State) -> str:
    local = state.now.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日{local:%H:%M}"


KEYWORDS = {
    **dict.fromkeys(OPT_OUT_WORDS, opt_out),
    **dict.fromkeys(OPT_IN_WORDS, opt_in),
}
