"""handlers/draft.py: a stored draft, read and written under the keys rows have always held."""

from __future__ import annotations

from handlers.draft import Draft
from models.form_schema import PROOFS, SUMMARY

OLD_MINIMAL = {"code": "hardship", "title": "困难职工帮扶申请", "step": "name", "answers": {}}
OLD_FULL = {
    "code": "illness",
    "title": "大病帮扶申请",
    "step": "summary",
    "answers": {"name": "李梅", "insured": True},
    "proofs": [{"media_id": "m1", "received_at": "2026-03-10T02:00:00+00:00"}],
    "proofs_done": True,
    "paused": True,
    "confirming": "cancel",
    "notes": ["（初步判断：相对困难）"],
}


def test_a_minimal_old_draft_loads_with_defaults():
    draft = Draft.from_data(OLD_MINIMAL)
    assert draft == Draft(code="hardship", title="困难职工帮扶申请", step="name")
    assert not (draft.proofs or draft.proofs_done or draft.paused or draft.walking_back)
    assert draft.confirming is None
    assert draft.notes == []


def test_a_draft_with_every_key_loads():
    draft = Draft.from_data(OLD_FULL)
    assert draft.answers == {"name": "李梅", "insured": True}
    assert draft.proofs == OLD_FULL["proofs"]
    assert draft.proofs_done and draft.paused
    assert draft.confirming == "cancel"
    assert draft.notes == ["（初步判断：相对困难）"]


def test_round_trip_keeps_every_key():
    assert Draft.from_data(OLD_FULL).to_data() == OLD_FULL
    assert Draft.from_data(OLD_MINIMAL).to_data() == {**OLD_MINIMAL, "proofs": []}


def test_an_empty_dict_loads():
    assert Draft.from_data({}) == Draft(code="", title="", step="")


def test_flags_are_written_only_when_set():
    data = Draft(code="c", title="t", step="name").to_data()
    assert set(data) == {"code", "title", "step", "answers", "proofs"}
    data = Draft(code="c", title="t", step="name", paused=True).to_data()
    assert set(data) == {"code", "title", "step", "answers", "proofs", "paused"}
    assert data["paused"] is True
    data = Draft(code="c", title="t", step="name", walking_back=True).to_data()
    assert data["walking_back"] is True
    assert Draft.from_data(data).walking_back


def test_every_flag_round_trips():
    draft = Draft(
        code="c",
        title="t",
        step=PROOFS,
        answers={"n": 1},
        proofs=[{"media_id": "m", "received_at": "x"}],
        proofs_done=True,
        paused=True,
        confirming="restart",
        walking_back=True,
        notes=["n"],
    )
    assert Draft.from_data(draft.to_data()) == draft


def test_loading_copies_the_stored_lists_and_dicts():
    stored = {**OLD_FULL, "answers": {"name": "李梅"}, "proofs": [], "notes": []}
    draft = Draft.from_data(stored)
    draft.answers["phone"] = "13812345678"
    draft.proofs.append({"media_id": "m2", "received_at": ""})
    draft.notes.append("x")
    assert stored["answers"] == {"name": "李梅"}
    assert stored["proofs"] == [] and stored["notes"] == []


def test_where_the_draft_is():
    assert Draft(code="c", title="t", step=SUMMARY).at_summary
    assert not Draft(code="c", title="t", step=SUMMARY).at_proofs
    assert Draft(code="c", title="t", step=PROOFS).at_proofs
    assert not Draft(code="c", title="t", step=PROOFS).at_summary
    question = Draft(code="c", title="t", step="name")
    assert not question.at_summary and not question.at_proofs
