"""Bringing a changed data file to a database that staff have changed too.

Who owns a value
    Each aid programme, competition and benefit row keeps ``synced``: the data file's
    values as the last sync applied them (its columns, and ``definition`` or ``matching``
    key by key). On the next sync a value still equal to that snapshot has not been
    touched since, so it is the file's and takes the file's new value. A value that
    differs was changed since, by staff in the admin or with ``unionbot aid-window``: it
    is staff's and is kept, and the report names it whenever the file changed it
    meanwhile. Nothing else records ownership, so the admin needs no change: staff
    writing a value is what makes it theirs, and setting it back to the file's value
    hands it back to the file.

    Nested tables are compared key by key, so a staff change to one pickup station's
    limit keeps that limit while the file's other stations and its new wording of the
    form still arrive. A list (a form's fields, proofs, aliases) is one value.

What a sync never does
    It never deletes a row or a value staff changed, and never touches what the files
    do not hold (``active``, ``results``, applications, sign-ups). Rows that are in the
    database but not in the file are left as they are.

Rows without a snapshot (seeded before migration 0006)
    Nobody recorded what the file said when they were seeded. Values staff can change
    (each catalogue's ``staff_editable`` paths: windows, event details, places, a
    programme's summary, a station's limit) are taken as staff's where they differ from
    the file, because resetting a season's window or a station's limit on an upgrade
    would undo a decision nobody can see; the report says so, and an operator who
    wants the file's value sets it in the admin. Everything else (forms, prompts,
    proofs, privacy notices and their versions, titles) staff cannot change, so it can
    only differ because the file changed after seeding: it takes the file's value. After
    that first sync every row has a snapshot and the rule above applies.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

MISSING: Any = object()  # the key is absent
UNKNOWN: Any = object()  # no snapshot says what the file held: equal to no value

KeyPath = tuple[str, ...]  # keys from a row down to a value: ("definition", "quota", "limits")
# JSON columns whose keys the report names without the column's own name.
NESTED = ("definition", "matching")


@dataclass
class RowSync:
    """What one sync did to one row, for the operator's report."""

    kind: str  # aid, competition, benefit
    code: str
    added: bool = False
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # staff's values the file changed
    untracked: list[str] = field(default_factory=list)  # differ, from before snapshots

    @property
    def changed(self) -> bool:
        return self.added or bool(self.updated or self.kept or self.untracked)

    def line(self) -> str:
        """``aid jinqiu: fields, notice_version updated; opens kept (changed by staff)``."""
        parts = []
        if self.updated:
            parts.append(f"{', '.join(self.updated)} updated")
        if self.kept:
            parts.append(f"{', '.join(self.kept)} kept (changed by staff)")
        if self.untracked:
            parts.append(
                f"{', '.join(self.untracked)} kept (differs from the data file and was set "
                "before syncs were recorded, so taken as changed by staff)"
            )
        if "privacy_notice" in self.updated and "notice_version" not in self.updated:
            parts.append("warning: the privacy notice changed but its notice_version did not")
        return f"{self.kind} {self.code}: {'; '.join(parts)}"


def path_name(path: KeyPath) -> str:
    return ".".join(path[1:] if path[0] in NESTED and len(path) > 1 else path)


def merge(db: Any, base: Any, new: Any, path: KeyPath, report: RowSync) -> Any:
    """The value to keep for ``path``: the file's ``new`` one where the database still
    holds the snapshot ``base``, the database's where staff changed it. Never mutates
    its arguments."""
    if db == new:
        return db
    if isinstance(db, dict) and isinstance(new, dict):
        return _merge_keys(db, base, new, path, report)
    if new == base:
        return db  # the file did not change it: whatever the database holds stands
    if db == base:
        report.updated.append(path_name(path))
        return new
    (report.untracked if base is UNKNOWN else report.kept).append(path_name(path))
    return db


def _merge_keys(db: dict, base: Any, new: dict, path: KeyPath, report: RowSync) -> dict:
    merged = {}
    for key in dict.fromkeys([*new, *db]):
        value = merge(
            db.get(key, MISSING), _child(base, key), new.get(key, MISSING), (*path, key), report
        )
        if value is not MISSING:
            merged[key] = value
    return merged


def _child(base: Any, key: str) -> Any:
    if isinstance(base, dict):
        return base.get(key, MISSING)
    return UNKNOWN if base is UNKNOWN else MISSING


def assumed_snapshot(values: dict[str, Any], staff_editable: tuple[KeyPath, ...]) -> dict[str, Any]:
    """For a row synced before snapshots were kept: the database's own values (so the file
    wins), except UNKNOWN where staff may have set the value (so a difference is kept)."""
    snapshot = copy.deepcopy(values)
    for path in staff_editable:
        parent = snapshot
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            parent[path[-1]] = UNKNOWN
    return snapshot


def sync_row(
    row: Any, new: dict[str, Any], staff_editable: tuple[KeyPath, ...], report: RowSync
) -> None:
    """Apply the file's ``new`` values to ``row`` where they are the file's, and take
    ``new`` as the row's snapshot."""
    current = {name: getattr(row, name) for name in new}
    base = row.synced if row.synced is not None else assumed_snapshot(current, staff_editable)
    for name, value in new.items():
        merged = merge(current[name], base.get(name, MISSING), value, (name,), report)
        if merged != current[name]:
            setattr(row, name, merged)
    if row.synced != new:
        row.synced = copy.deepcopy(new)
