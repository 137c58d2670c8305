"""Pick the handler for a delivery: events by name, menu keys and keywords, then the fallback.

Selection only reads the message and state; running the handler is the
caller's job, so the same routing serves the webhook, the simulator and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from handlers import (
    aid,
    applications,
    benefits,
    callback,
    campaign_optout,
    campaign_reports,
    competitions,
    confirm,
    entries,
    followers,
    form_prompts,
    forms,
    intents,
    menu,
    mine,
    office,
    picks,
)
from handlers.draft import Draft
from handlers.homophones import correct
from handlers.messages import (
    CLICK,
    LOCATION,
    SCAN,
    SUBSCRIBE,
    SUBSCRIBE_SCAN,
    UNSUBSCRIBE,
    VIEW,
    Inbound,
    Reply,
    Text,
)
from handlers.state import State
from handlers.text import keyword
from models.conversation import find_conversation, get_conversation

Handler = Callable[[Inbound, State], list[Reply]]
log = logging.getLogger(__name__)


def no_reply(message: Inbound, state: State) -> list[Reply]:
    """Acknowledges an event that needs no answer (WeChat gets ``success``)."""
    return []


EVENTS: dict[str, Handler] = {
    SUBSCRIBE: followers.subscribed,
    SUBSCRIBE_SCAN: followers.subscribed,
    UNSUBSCRIBE: followers.unsubscribed,
    SCAN: menu.welcome,
    VIEW: no_reply,
    LOCATION: no_reply,
    **campaign_reports.EVENTS,
    **dict.fromkeys(followers.CHOICE_CONTAINERS, followers.subscription_choices),
}

MESSAGES: dict[str, Handler] = {
    "image": applications.photo_outside_form,
    "video": menu.media_outside_form,
    "shortvideo": menu.media_outside_form,
    "location": menu.location_received,
    "link": menu.link_received,
}

KEYWORDS: dict[str, Handler] = {
    "帮助": menu.show_menu,
    "菜单": menu.show_menu,
    "?": menu.show_menu,
    "help": menu.show_menu,
    "人工": menu.staff_contact,
    **dict.fromkeys(("你好", "您好", "在吗", "在不在", "hi", "hello", "哈喽"), menu.greet),
    "申请": aid.aid_menu,
    "帮扶": aid.aid_menu,
    "申请帮扶": aid.aid_menu,
    "竞赛": competitions.competition_list,
    "报名": competitions.competition_list,
    "竞赛报名": competitions.competition_list,
    "比赛": competitions.competition_list,
    "我的报名": entries.my_entries,
    "竞赛结果": entries.results,
    "比赛结果": entries.results,
    "普惠": benefits.benefits_menu,
    "我的": mine.my_records,
    "我的申请": applications.my_applications,
    "查询进度": applications.progress,
    "申请进度": applications.progress,
    "查进度": applications.progress,
    "进度": applications.progress,
    **dict.fromkeys(("地址", "电话", "在哪", "在哪里", "办公时间"), office.office_info),
    **dict.fromkeys(("谢谢", "好的", "辛苦了", "谢谢你", "谢谢您", "感谢"), menu.small_talk_reply),
    **campaign_optout.KEYWORDS,
}
# The menu's numbers stand for its keywords.
KEYWORDS.update({number: KEYWORDS[keyword] for number, keyword, _ in menu.SERVICES})


# Conversations that expect the worker's next message. Each returns None when the
# message is not an answer, and it is then routed as usual.
Continuation = Callable[[Inbound, State], list[Reply] | None]
CONTINUATIONS: dict[str, Continuation] = {
    picks.FLOW: picks.continue_pick,
    confirm.FLOW: confirm.continue_confirm,
    callback.FLOW: callback.continue_handoff,
}


def continuation_for(flow: str, state: State) -> Continuation | None:
    """The list, question or form (any flow ``state.flows`` declares) waiting for an answer."""
    if flow in state.flows.forms:
        return forms.continue_form
    return CONTINUATIONS.get(flow)


def route(message: Inbound, state: State) -> Handler:
    """Return the handler for ``message``."""
    if not message.is_event and state.conversation is not None:
        return converse
    return route_fresh(message, state)


def route_fresh(message: Inbound, state: State) -> Handler:
    """The handler for ``message`` when no conversation waits for it."""
    if message.is_event:
        if message.event == CLICK:
            return route_keyword(menu.MENU_KEYS.get(message.key, ""))
        return EVENTS.get(message.event, no_reply)
    if message.kind == "voice" and not message.text:
        return menu.voice_not_recognised
    if message.kind in ("text", "voice"):
        corrected = correct(message.text)
        if corrected == message.text:
            return route_keyword(message.text)
        # 申情 / 帮付 / 竟赛: the handler reads the keyword as meant (see handlers.homophones).
        handler = route_keyword(corrected)
        return lambda message, state: handler(replace(message, text=corrected), state)
    return MESSAGES.get(message.kind, menu.unsupported)


def route_keyword(text: str) -> Handler:
    return KEYWORDS.get(keyword(text), intents.understand)


def converse(message: Inbound, state: State) -> list[Reply]:
    """Give the message to the waiting conversation; if it is not an answer, route it.

    A paused form stays saved, and the reply reminds the worker of it.
    """
    conversation = state.conversation
    continuation = continuation_for(conversation.flow, state)
    if continuation is None:
        # The app checks stored flows at start; one appearing later is a deploy mismatch.
        log.error("conversation flow %r has no handler; routing as usual", conversation.flow)
    replies = continuation(message, state) if continuation else None
    if replies is not None:
        return replies
    # A list or question offered while a form waited is over: the form may take the
    # message (the 继续 its pause notice asked for, or an answer).
    underneath = get_conversation(state.session, conversation.follower_id)
    if underneath is not None and underneath.flow != conversation.flow:
        state.conversation = underneath
        return converse(message, state)
    state.conversation = None
    replies = route_fresh(message, state)(message, state)
    return replies + _form_still_waiting(state, conversation.follower_id, conversation.flow)


def _form_still_waiting(state: State, follower_id: int, flow: str) -> list[Reply]:
    """After answering something else: the pause notice, or the form's question again
    (a question asked aside), unless the answer asked a question of its own (whether
    to switch forms, 人工's topic) or started another form."""
    draft = find_conversation(state.session, follower_id, flow)
    if flow not in state.flows.forms or draft is None:
        return []
    waiting = Draft.from_data(draft.data)
    latest = get_conversation(state.session, follower_id)
    if waiting.paused:
        return [Text(form_prompts.pause_notice(waiting.title))]
    if state.pending_question and latest is not None and latest.flow in (flow, picks.FLOW):
        question = state.pending_question.removesuffix("\n" + form_prompts.CONTROL_HINT)
        return [Text(f"——\n{waiting.title}还没填完，回复“继续”接着填：\n{question}")]
    return []
