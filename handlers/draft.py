"""A form in progress, as stored: where the worker is, what they answered, what waits.

The draft is the ``data`` of the worker's :class:`~models.Conversation` row
(encrypted). Reading it through :class:`Draft` gives every state a name, and
:meth:`Draft.to_data` writes the same keys the rows have always held, so drafts
saved before this class existed load unchanged.

A draft is, at any time, in exactly one of these states:

* **asking** ``step`` (a field's key): the next text is that question's answer;
* **collecting photos** (``step == PROOFS``): images are proofs, ``完成`` ends the step;
* **at the summary** (``step == SUMMARY``): ``确认`` submits, ``修改 N`` reopens a field;

and on top of it an answer may wait for the worker to confirm it (``doubt``: the step and
the value that looked wrong, see :mod:`handlers.doubts`), or the worker may have been asked
to confirm leaving (``confirming``
is ``cancel`` or ``restart``), or the draft may be **paused** after idle time, when
only ``继续`` and ``取消`` are taken and anything else is routed as usual; and a
worker who went back with ``上一步`` is **walking back** (``walking_back``): each
answer then leads to the next question in order, already answered ones included
(``不变`` keeps an answer), until an unanswered question or the summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.form_schema import PROOFS, SUMMARY


@dataclass
class Draft:
    code: str  # which of the owner's forms (a programme, a competition)
    title: str  # 金秋助学申请, as the pause notice names it
    step: str  # a field's key, PROOFS or SUMMARY
    answers: dict[str, Any] = field(default_factory=dict)
    proofs: list[dict[str, str]] = field(default_factory=list)  # media_id, received_at
    proofs_done: bool = False
    paused: bool = False
    confirming: str | None = None  # vocabulary.CANCEL or RESTART, waiting for 是/否
    walking_back: bool = False  # went back with 上一步: go forward one question at a time
    # The privacy notice's version when the form was opened: a newer notice synced from the
    # data files meanwhile applies to new drafts, this one keeps what the worker was shown.
    notice_version: str = ""
    notes: list[str] = field(default_factory=list)  # the owner's lines under the summary
    # {"step", "value"}: a doubtful answer awaiting 是; with "options", unions to pick from.
    doubt: dict[str, Any] | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Draft:
        return cls(
            code=data.get("code", ""),
            title=data.get("title", ""),
            step=data.get("step", ""),
            answers=dict(data.get("answers", {})),
            proofs=list(data.get("proofs", [])),
            proofs_done=bool(data.get("proofs_done")),
            paused=bool(data.get("paused")),
            confirming=data.get("confirming"),
            walking_back=bool(data.get("walking_back")),
            notice_version=data.get("notice_version", ""),
            notes=list(data.get("notes", [])),
            doubt=data.get("doubt"),
        )

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "title": self.title,
            "step": self.step,
            "answers": self.answers,
            "proofs": self.proofs,
        }
        # Flags only when set, as drafts have always been stored.
        if self.proofs_done:
            data["proofs_done"] = True
        if self.paused:
            data["paused"] = True
        if self.confirming:
            data["confirming"] = self.confirming
        if self.walking_back:
            data["walking_back"] = True
        if self.notes:
            data["notes"] = self.notes
        if self.notice_version:
            data["notice_version"] = self.notice_version
        if self.doubt:
            data["doubt"] = self.doubt
        return data

    @property
    def at_summary(self) -> bool:
        return self.step == SUMMARY

    @property
    def at_proofs(self) -> bool:
        return self.step == PROOFS
