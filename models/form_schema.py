"""What a form asks, as data: fields in order, each with a prompt, a kind, choices and a
condition, and whether photos are asked for.

Programmes and competitions keep these definitions in the database (from the
data files, staff-editable); the conversation that asks them is
:mod:`handlers.forms`, and the admin reads the same fields to show answers masked
by kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.masking import mask_value

# Steps of a form besides its fields: the photo step and the summary.
SUMMARY = "summary"
PROOFS = "proofs"


@dataclass(frozen=True)
class Field:
    """One question; ``when`` ({"field": key, "equals" | "in" | "not": …}) makes it conditional."""

    key: str
    label: str
    prompt: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    optional: bool = False
    when: Mapping[str, Any] | None = None
    max_length: int = 200
    minimum: int | None = None
    maximum: int | None = None
    unit: str = ""
    # Consent that must be given to go on; refusing ends the form with ``refusal``.
    required: bool = False
    refusal: str = ""
    # Words workers use for an option: {"配偶": ("老公", "爱人", …)}.
    synonyms: Mapping[str, tuple[str, ...]] | None = None
    # Amounts that are allowed but unlikely (a household's monthly income of 4 元) are
    # asked about once: above 0 and below ``plausible_minimum``, or above ``plausible_maximum``
    # (per person of the ``household_field`` answer, when that was given).
    plausible_minimum: int | None = None
    plausible_maximum: int | None = None
    household_field: str = ""  # the household-size answer an amount is compared with
    max_years_ago: int | None = None  # a date older than this is refused

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Field:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["choices"] = tuple(values.get("choices", ()))
        if values.get("synonyms"):
            values["synonyms"] = {k: tuple(v) for k, v in values["synonyms"].items()}
        return cls(**values)

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """Whether to ask: always, or per ``when`` = {field, equals | in | not}."""
        if not self.when:
            return True
        if self.when["field"] not in answers:
            return False
        value = answers[self.when["field"]]
        if "equals" in self.when:
            return value == self.when["equals"]
        if "in" in self.when:
            return value in self.when["in"]
        return value != self.when["not"]

    def show(self, value: Any) -> str:
        """The answer as the worker sees it: masked where sensitive."""
        if isinstance(value, bool):
            if self.kind == "consent":
                return "同意" if value else "不同意"
            return "是" if value else "否"
        if value is None or value == "":
            return "（未填）"
        if self.kind == "money":
            return f"{value}元"
        if self.kind == "count":
            return f"{value}{self.unit or '人'}"
        return mask_value(self.kind, str(value))

    def question(self) -> str:
        text = self.prompt
        if self.kind == "choice":
            text += "\n" + "\n".join(f"{n} {c}" for n, c in enumerate(self.choices, 1))
        elif self.kind in ("yes_no",):
            text += "（回复 是 或 否）"
        elif self.kind == "consent":
            text += (
                "\n回复“同意”继续；不同意请回复“不同意”"
                if self.required
                else "\n请回复“同意”或“不同意”"
            )
        if self.optional:
            text += "（没有可回复“无”）"
        return text


@dataclass(frozen=True)
class Form:
    flow: str  # which FormOwner handles it
    code: str  # which of the owner's forms (a programme, a competition)
    title: str  # 金秋助学申请
    fields: tuple[Field, ...]
    proofs: tuple[str, ...] = ()  # photos asked for; empty means no photo step
    proofs_required: bool = False
    # The privacy notice's version; consent is recorded with the version the worker saw.
    notice_version: str = ""

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def expected_steps(self, answers: Mapping[str, Any]) -> int:
        """How many questions to expect, counting those whose condition is still open."""
        undecided = [f for f in self.fields if f.when and f.when["field"] not in answers]
        return len(self.steps(answers)) + len(undecided)

    def steps(self, answers: Mapping[str, Any]) -> list[str]:
        keys = [f.key for f in self.fields if f.applies(answers)]
        return [*keys, PROOFS] if self.proofs else keys


def fields_from(entries: list[Mapping[str, Any]], notice: str, refusal: str) -> tuple[Field, ...]:
    """Fields from data; a consent that must be given carries the privacy ``notice`` in its
    question and ``refusal`` as the answer to 不同意."""
    fields = []
    for entry in entries:
        if entry.get("kind") == "consent" and entry.get("required"):
            entry = {**entry, "prompt": f"{notice}\n\n{entry['prompt']}", "refusal": refusal}
        fields.append(Field.from_dict(entry))
    return tuple(fields)
