"""Every conversation that waits for a worker's next message, declared in one place.

A form, a numbered list or a yes/no question leaves a conversation row naming
its flow (and, for lists and questions, their kind); the worker's next message
is given to whatever this table names for it. The application builds the table
once (:func:`build`) and hands it to handlers in :attr:`State.flows`, so the
router never depends on which modules happen to have been imported, and
:func:`check_stored` lets the app refuse to start when a stored draft names a
flow nobody declares (it would otherwise be ignored: a lost draft).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from handlers import (
    aid,
    applications,
    benefits,
    callback,
    competitions,
    confirm,
    entries,
    picks,
    seasons,
)
from handlers.forms import FormOwner
from handlers.messages import Reply
from handlers.state import State

# What picking from a list, or answering yes/no, does with the thing's code or id.
Action = Callable[[State, str], list[Reply]]


class UnknownFlow(RuntimeError):
    """A stored conversation names a flow, list or question that nothing handles."""


@dataclass(frozen=True)
class Flows:
    # flow → the owner of its form (aid, competition sign-up, 补充 …)
    forms: Mapping[str, FormOwner]
    # list kind → (what a number does, what 申请/报名 does when one thing was offered)
    picks: Mapping[str, tuple[Action, Action]]
    # question kind → (what yes does, what no does)
    confirms: Mapping[str, tuple[Action, Action]]
    # list kind → what "提醒我" does when one closed thing was offered
    reminds: Mapping[str, Action] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = set(WAITING) & set(self.forms)
        if clash:
            raise UnknownFlow(f"form flows may not be named {sorted(clash)}")

    def knows(self, flow: str) -> bool:
        return flow in WAITING or flow in self.forms


# Conversations that are not forms: a numbered list, a yes/no question, 人工's details.
WAITING = (picks.FLOW, confirm.FLOW, callback.FLOW)


def build() -> Flows:
    """The union's conversations."""
    return Flows(
        forms={
            aid.FLOW: aid.AidApplicationForm(),
            competitions.FLOW: competitions.SignupForm(),
            applications.SUPPLEMENT: applications.SupplementForm(),
        },
        picks={
            aid.KIND: (aid.picked_programme, aid.go_programme),
            # A number from the list shows details; 报名 on the details starts the form.
            competitions.KIND: (competitions.picked_competition, competitions.go_competition),
            benefits.KIND: (benefits.picked_benefit, benefits.picked_benefit),
            # Out of season: 提醒我 (or 好, 申请) asks to be told when it opens.
            seasons.AID_CLOSED: (aid.picked_programme, seasons.remind_programme),
            seasons.CONTEST_CLOSED: (competitions.picked_competition, seasons.remind_competition),
            # A bare command with several candidates: the one picked.
            applications.DETAIL_PICK: (applications.picked_detail, applications.picked_detail),
            applications.WITHDRAW_PICK: (
                applications.picked_withdraw,
                applications.picked_withdraw,
            ),
            applications.SUPPLEMENT_PICK: (
                applications.picked_supplement,
                applications.picked_supplement,
            ),
            applications.PHOTO_PICK: (applications.photo_confirmed, applications.photo_confirmed),
            entries.CANCEL_PICK: (entries.picked_cancel, entries.picked_cancel),
        },
        confirms={
            entries.CANCEL: (entries.cancel_confirmed, entries.cancel_declined),
            applications.WITHDRAW: (
                applications.withdraw_confirmed,
                applications.withdraw_declined,
            ),
            applications.PHOTO: (applications.photo_confirmed, applications.photo_declined),
            aid.SWITCH: (aid.switch_confirmed, aid.switch_declined),
            competitions.SWITCH: (competitions.switch_confirmed, competitions.switch_declined),
        },
        reminds={
            seasons.AID_CLOSED: seasons.remind_programme,
            seasons.CONTEST_CLOSED: seasons.remind_competition,
        },
    )


def check_stored(flows: Flows, stored: Iterable[str]) -> None:
    """Raise :class:`UnknownFlow` naming every stored flow that ``flows`` lacks."""
    unknown = sorted({flow for flow in stored if not flows.knows(flow)})
    if unknown:
        raise UnknownFlow(
            f"conversations in the database belong to flows nothing handles: {', '.join(unknown)}"
        )
