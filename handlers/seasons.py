"""Out of season: when a programme or competition opens next, what is open now, ``提醒我``.

A worker who asks for 金秋助学 in November needs the date first, then what they
can do today; and rather than remember to come back, they can ask to be told
(``提醒我``): the wish is recorded and the seasonal campaigns send the notice.
"""

from __future__ import annotations

from handlers import picks
from handlers.messages import Reply, Text
from handlers.office import office_line
from handlers.state import State
from models.aid import AidProgramme, get_programme, programmes
from models.competition import Competition, competitions
from models.windows import window_on, window_words
from models.wishes import record_wish

# Lists offering the one closed programme or competition just shown: 提醒我 (or 好/是)
# records the wish, declared in handlers.flows.
AID_CLOSED = "aid_closed"
CONTEST_CLOSED = "competition_closed"
OPEN_NOW_SHOWN = 3


def window_text(item: AidProgramme | Competition) -> str:
    """A programme's or competition's yearly window, in words."""
    return window_words(item.opens, item.closes, all_year="全年受理")


def _name(item: AidProgramme | Competition) -> str:
    return item.name if isinstance(item, AidProgramme) else f"“{item.title}”"


def _next_opening(state: State, item: AidProgramme | Competition) -> str:
    opening = window_on(item.opens, item.closes, state.today).next_opening
    return f"{opening.year}年{opening.month}月{opening.day}日" if opening else ""


def closed_text(state: State, name: str, item: AidProgramme | Competition, what: str) -> str:
    """Why ``item`` takes no ``what`` (申报/报名) today, led by when it will."""
    when = _next_opening(state, item)
    lead = f"{name}下次{when}开始{what}（{window_text(item)}），" if when else f"{name}"
    return (
        f"{lead}现在不在{what}期。"
        f"如有疑问，请拨打职工服务热线 {state.settings.union.hotline} "
        f"或到{office_line(state)}咨询。"
    )


def _open_now(state: State, item: AidProgramme | Competition) -> str:
    """What is open today that may fit instead: the same kind of thing, open now."""
    if isinstance(item, AidProgramme):
        listed = [
            p.name
            for p in programmes(state.session)
            if p.code != item.code and p.window(state.today).open
        ]
        where = "现在可以申请：{}，回复“帮扶”查看。"
    else:
        listed = [
            c.title
            for c in competitions(state.session)
            if c.code != item.code and window_on(c.opens, c.closes, state.today).open
        ]
        where = "正在报名：{}，回复“竞赛”查看。"
    return where.format("、".join(listed[:OPEN_NOW_SHOWN])) if listed else ""


def out_of_season(state: State, item: AidProgramme | Competition, what: str) -> list[Reply]:
    """The next opening first, then what is open now, then the offer to be reminded."""
    when = _next_opening(state, item)
    lines = [
        f"{_name(item)}下次{when}开始{what}（{window_text(item)}），现在不在{what}期。"
        if when
        else f"{_name(item)}现在不在{what}期。"
    ]
    instead = _open_now(state, item)
    if instead:
        lines.append(instead)
    if when and state.follower is not None:
        if isinstance(item, AidProgramme):
            picks.offer(state, AID_CLOSED, [item.code])
        else:
            picks.offer(state, CONTEST_CLOSED, [item.code])
        lines.append(f"回复“提醒我”，{what}开始时我们在这里通知您。")
    union = state.settings.union
    lines.append(f"有疑问请拨打 {union.hotline} 或到{office_line(state)}咨询。")
    return [Text("\n".join(lines))]


def remind_programme(state: State, code: str) -> list[Reply]:
    programme = get_programme(state.session, code)
    if programme is None:
        return []
    record_wish(state.session, state.follower.id, state.now, programme_code=code)
    when = _next_opening(state, programme)
    return [Text(f"好的，{programme.name}{when}开始申报时，我们会在这里通知您。")]


def remind_competition(state: State, code: str) -> list[Reply]:
    competition = state.session.get(Competition, code)
    if competition is None:
        return []
    record_wish(state.session, state.follower.id, state.now, competition_code=code)
    when = _next_opening(state, competition)
    return [Text(f"好的，“{competition.title}”{when}开始报名时，我们会在这里通知您。")]
