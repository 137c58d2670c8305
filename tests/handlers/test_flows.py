"""handlers/flows.py: every conversation the handlers leave waiting is declared, and the app
will not start over stored drafts that nothing declares."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

import handlers
from bot import create_app
from handlers import aid, applications, benefits, callback, competitions, confirm, entries, picks
from handlers.flows import Flows, UnknownFlow, build, check_stored
from models import Conversation, Follower
from models.follower import lock_follower

EXPECTED_FORMS = {
    "aid": aid.AidApplicationForm,
    "competition": competitions.SignupForm,
    "aid_supplement": applications.SupplementForm,
}
EXPECTED_PICKS = {
    "aid",
    "competition",
    "benefit",
    "aid_closed",
    "competition_closed",
    "aid_detail",
    "aid_withdraw_pick",
    "aid_supplement_pick",
    "aid_photo_pick",
    "entry_cancel",
}
EXPECTED_CONFIRMS = {
    "competition_cancel",
    "aid_withdraw",
    "aid_photo",
    "aid_switch",
    "competition_switch",
}


def test_build_declares_the_union_s_conversations():
    flows = build()
    assert {flow: type(owner) for flow, owner in flows.forms.items()} == EXPECTED_FORMS
    assert set(flows.picks) == EXPECTED_PICKS
    assert set(flows.confirms) == EXPECTED_CONFIRMS
    for action, go in flows.picks.values():
        assert callable(action) and callable(go)
    for yes, no in flows.confirms.values():
        assert callable(yes) and callable(no)


def test_the_actions_are_the_handlers_own():
    flows = build()
    assert flows.picks[aid.KIND] == (aid.picked_programme, aid.go_programme)
    assert flows.picks[benefits.KIND] == (benefits.picked_benefit, benefits.picked_benefit)
    assert flows.confirms[applications.WITHDRAW] == (
        applications.withdraw_confirmed,
        applications.withdraw_declined,
    )
    assert flows.confirms[entries.CANCEL] == (entries.cancel_confirmed, entries.cancel_declined)
    assert flows.confirms[aid.SWITCH] == (aid.switch_confirmed, aid.switch_declined)
    assert set(flows.reminds) == {"aid_closed", "competition_closed"}


def uses_in_handlers() -> Iterator[tuple[str, str, str]]:
    """(what, name, where) for every form flow, list kind and question kind a handler
    module names in ``Form(flow=…)``, ``picks.offer(state, kind, …)`` or
    ``confirm.ask(state, kind, …)``: read from the source, so a new one is not missed."""
    for info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"handlers.{info.name}")
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = ast.unparse(node.func)
            where = f"handlers/{info.name}.py:{node.lineno}"
            if callee == "Form":
                for keyword in node.keywords:
                    if keyword.arg == "flow":
                        yield "form", eval_name(module, keyword.value), where
            elif callee == "picks.offer":
                yield "pick", eval_name(module, node.args[1]), where
            elif callee == "confirm.ask":
                yield "confirm", eval_name(module, node.args[1]), where


def eval_name(module, node: ast.expr) -> str:
    """A constant or a module-level name (FLOW, KIND …) as its value."""
    return eval(compile(ast.Expression(node), "<flow>", "eval"), vars(module))  # noqa: S307


def test_every_flow_the_handlers_use_is_declared():
    flows = build()
    declared = {"form": set(flows.forms), "pick": set(flows.picks), "confirm": set(flows.confirms)}
    used = list(uses_in_handlers())
    # The scan itself finds them (if it found nothing, this test would prove nothing).
    assert {(what, name) for what, name, _ in used} >= {
        ("form", "aid"),
        ("form", "competition"),
        ("form", "aid_supplement"),
        ("pick", "aid"),
        ("pick", "competition"),
        ("pick", "benefit"),
        ("confirm", "competition_cancel"),
        ("confirm", "aid_withdraw"),
    }
    missing = [(what, name, where) for what, name, where in used if name not in declared[what]]
    assert missing == []


@pytest.mark.parametrize("name", [picks.FLOW, confirm.FLOW, callback.FLOW])
def test_a_form_may_not_take_the_name_of_lists_or_questions(name):
    with pytest.raises(UnknownFlow, match=name):
        Flows(forms={name: aid.AidApplicationForm()}, picks={}, confirms={})


def test_knows_forms_lists_and_questions():
    flows = build()
    for flow in ("aid", "competition", "aid_supplement", "pick", "confirm", "handoff"):
        assert flows.knows(flow)
    assert not flows.knows("ghost")
    assert not flows.knows("benefit")  # a list kind, not a flow
    empty = Flows(forms={}, picks={}, confirms={})
    assert empty.knows("pick") and empty.knows("confirm") and not empty.knows("aid")


def test_check_stored_names_every_unknown_flow_once():
    with pytest.raises(UnknownFlow) as caught:
        check_stored(build(), ["aid", "ghost", "pick", "old_survey", "ghost"])
    assert str(caught.value) == (
        "conversations in the database belong to flows nothing handles: ghost, old_survey"
    )


def test_check_stored_accepts_known_flows():
    check_stored(build(), ["aid", "competition", "aid_supplement", "pick", "confirm"])
    check_stored(build(), [])


GHOST_OPENID = "o-flows-ghost"


@pytest.fixture
def stored_conversation(engine, settings):
    """Commit a conversation in a flow of the test's choosing; removed afterwards (the app
    fixtures check stored flows before they empty the tables)."""

    def store(flow: str) -> None:
        with Session(engine) as session, session.begin():
            follower = lock_follower(session, GHOST_OPENID)
            session.add(Conversation(follower_id=follower.id, flow=flow, step="x", data={}))

    yield store
    with Session(engine) as session, session.begin():
        session.execute(delete(Follower).where(Follower.openid == GHOST_OPENID))


def close(app) -> None:
    runtime = app.extensions["unionbot"]
    runtime.executor.shutdown()
    runtime.engine.dispose()


def test_the_app_refuses_to_start_over_a_draft_nothing_declares(stored_conversation, settings):
    stored_conversation("ghost")
    with pytest.raises(UnknownFlow, match="nothing handles: ghost"):
        create_app(settings)


def test_the_app_starts_over_drafts_of_declared_flows(stored_conversation, settings):
    stored_conversation("aid")
    app = create_app(settings)
    try:
        assert app.extensions["unionbot"].flows.knows("aid")
    finally:
        close(app)
