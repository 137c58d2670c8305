"""Union organisations (县总工会 → 镇/区工会 → 基层工会) and what each staff member may see.

A staff member belongs to one organisation and sees the applications, sign-ups and
followers of it and of every organisation below it, never beside or above it. The
county federation sees everything, including what no organisation was matched to:
a worker whose union nobody recognised is the county's to handle, never nobody's.

The organisations come from ``models/data/unions.toml`` through the data sync
(:mod:`models.seed`), like the catalogue.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, String, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

COUNTY = "county"
TOWN = "town"
GRASSROOTS = "grassroots"
LEVEL_LABELS = {COUNTY: "县总工会", TOWN: "镇/区工会", GRASSROOTS: "基层工会"}
# The county federation's code in the shipped data file; staff accounts that existed
# before organisations did belong to it (migration 0009), and new ones default to it.
COUNTY_CODE = "sheyang"


class UnionOrg(Base):
    __tablename__ = "union_orgs"
    __table_args__ = (CheckConstraint("level IN ('county', 'town', 'grassroots')", name="level"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("union_orgs.code"), index=True, default=None
    )
    position: Mapped[int] = mapped_column(default=0)
    # {"aliases": [...]}: other names workers type for it (models.org_matching).
    matching: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The data file's values as the last sync applied them (models.data_sync).
    synced: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)


UNION_COLUMNS = ("code", "name", "level", "parent_code", "position")


def load_unions(path: Path) -> list[dict[str, Any]]:
    """The organisations in ``path`` as model rows, parents before children.

    A parent must be listed before its children and the county must have none, so a
    mistake in the file stops the sync with its line instead of reaching staff scopes."""
    with path.open("rb") as fh:
        entries = tomllib.load(fh)["unions"]
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        code, parent, level = entry.get("code"), entry.get("parent"), entry.get("level")
        if not code or not entry.get("name") or level not in LEVEL_LABELS:
            raise ValueError(f"{path.name}: union {number} needs code, name and a known level")
        if (level == COUNTY) != (parent is None) or (parent and parent not in seen):
            raise ValueError(
                f"{path.name}: {code}: only the county has no parent, and a parent "
                "must be listed before its children"
            )
        seen.add(code)
        rows.append(
            {
                "code": code,
                "name": entry["name"],
                "level": level,
                "parent_code": parent,
                "position": number,
                "matching": {"aliases": list(entry.get("aliases", ()))},
            }
        )
    return rows


def all_orgs(session: Session) -> list[UnionOrg]:
    return list(session.scalars(select(UnionOrg).order_by(UnionOrg.position, UnionOrg.code)))


@dataclass(frozen=True)
class Scope:
    """The organisations a staff member may see: ``codes``, or everything (``county``)."""

    county: bool
    codes: frozenset[str]

    def covers(self, org_code: str | None) -> bool:
        return self.county or org_code in self.codes

    @property
    def orgs(self) -> frozenset[str] | None:
        """What the list queries take: the codes, or None for everything (unmatched too)."""
        return None if self.county else self.codes


def within(column: Any, orgs: Collection[str] | None) -> ColumnElement[bool]:
    """A WHERE condition keeping rows whose ``column`` (an org code) is one of ``orgs``;
    ``orgs`` None keeps every row, those without an organisation included."""
    return true() if orgs is None else column.in_(sorted(orgs))


NOTHING = Scope(county=False, codes=frozenset())


def scope_of(session: Session, org_code: str | None) -> Scope:
    """What a member of ``org_code`` may see: it and everything below it.

    An unknown or missing organisation sees nothing: failing closed, since an account
    whose organisation vanished must not fall back to seeing the whole county."""
    orgs = {org.code: org for org in all_orgs(session)}
    home = orgs.get(org_code or "")
    if home is None:
        return NOTHING
    if home.level == COUNTY:
        return Scope(county=True, codes=frozenset(orgs))
    children: dict[str, list[str]] = {}
    for org in orgs.values():
        if org.parent_code:
            children.setdefault(org.parent_code, []).append(org.code)
    codes, waiting = set(), [home.code]
    while waiting:
        code = waiting.pop()
        if code not in codes:  # a cycle in a hand-edited table must not loop forever
            codes.add(code)
            waiting += children.get(code, [])
    return Scope(county=False, codes=frozenset(codes))
