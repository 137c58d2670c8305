"""Data every install starts with (union organisations, aid programmes, competitions,
benefits) and the demo's extras.

The catalogue comes from the data files in ``models/data`` (or another directory with
the same files). :func:`seed_catalogue` adds the rows the database lacks and brings the
file's changes to the rows it has, keeping what staff changed (:mod:`models.data_sync`
says how it tells the two apart). Running it again changes nothing.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.aid import AidProgramme, person_hash
from models.base import Base, utcnow
from models.benefit import Benefit
from models.campaigns import Campaign, file_changed
from models.competition import CONFIRMED, Competition, CompetitionEntry
from models.data_sync import RowSync, sync_row
from models.orgs import UNION_COLUMNS, UnionOrg, load_unions
from models.staff import upsert_staff
from models.windows import window_on

DEMO_ADMIN = "admin"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).parent / "data"
SHARED_TEXTS = ("privacy_notice", "privacy_refusal", "notice_version")


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_entries(path: Path, table: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The ``table`` entries of ``path``, split into model columns and a ``definition``.

    Each entry lists field keys; they are resolved from the ``fields.toml`` beside
    ``path`` so a question is written once however many forms ask it.
    """
    data = _read(path)
    library = _read(path.with_name("fields.toml"))["fields"]
    entries = []
    for entry in data[table]:
        unknown = [key for key in entry["fields"] if key not in library]
        if unknown:
            raise ValueError(f"{path.name}: {entry['code']} uses unknown fields {unknown}")
        definition = {k: v for k, v in entry.items() if k not in columns}
        definition["fields"] = [{"key": key, **library[key]} for key in entry["fields"]]
        definition.update({key: data[key] for key in SHARED_TEXTS})
        row = {k: v for k, v in entry.items() if k in columns}
        entries.append({**row, "definition": definition})
    return entries


PROGRAMME_COLUMNS = ("code", "name", "summary", "opens", "closes", "position")
COMPETITION_COLUMNS = (
    "code",
    "title",
    "kind",
    "description",
    "opens",
    "closes",
    "event_on",
    "event_time",
    "place",
    "capacity",
    "per_unit",
    "team",
    "position",
)
BENEFIT_COLUMNS = ("code", "title", "answer", "audience", "how", "link", "position")
# Staff own what they edit in the admin (a changed text, a send time); the sync keeps it.
CAMPAIGN_COLUMNS = ("code", "name", "season", "send_times", "channel", "content")


def load_benefits(path: Path = DATA / "benefits.toml") -> list[dict[str, Any]]:
    """The benefits in ``path`` as model rows; keywords and questions go to ``matching``."""
    rows = []
    for number, entry in enumerate(_read(path)["benefits"], 1):
        missing = [key for key in ("code", "title", "answer") if not entry.get(key)]
        if missing:
            raise ValueError(f"{path.name}: benefit {number} lacks {missing}")
        row = {k: v for k, v in entry.items() if k in BENEFIT_COLUMNS}
        row.setdefault("position", number)
        row["matching"] = {
            "keywords": list(entry.get("keywords", ())),
            "questions": list(entry.get("questions", ())),
        }
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Catalogue:
    """One kind of row the data files hold, and what of it staff can change."""

    kind: str  # as the sync report names it
    model: type[Base]
    load: Callable[[Path], list[dict[str, Any]]]  # the file's entries, from a data directory
    columns: tuple[str, ...]  # the file's columns, ``code`` first
    json_column: str  # where the rest of an entry goes
    # Values staff change in the admin (or with ``unionbot aid-window``), as paths into
    # the row; only consulted for rows from before snapshots (see models.data_sync).
    staff_editable: tuple[tuple[str, ...], ...] = ()
    # Called with a row the sync changed and its report (a campaign returns to draft).
    after_sync: Callable[[Any, RowSync], None] | None = None

    def file_values(self, entry: dict[str, Any]) -> dict[str, Any]:
        """What the file says of every value it may hold, a column's default where the
        entry omits it (so removing ``opens`` from the file means "all year")."""
        names = (*self.columns[1:], self.json_column)
        return {name: entry.get(name, self._default(name)) for name in names}

    def _default(self, name: str) -> Any:
        default = self.model.__table__.c[name].default
        return None if default is None or callable(default.arg) else default.arg


# What the admin's competition page edits (``active`` and ``results`` are not in the file).
COMPETITION_STAFF_COLUMNS = (
    "opens",
    "closes",
    "event_on",
    "event_time",
    "place",
    "capacity",
    "per_unit",
)
CATALOGUES = (
    # First: staff accounts, applications and sign-ups refer to the organisations.
    Catalogue(
        "union",
        UnionOrg,
        lambda data: load_unions(data / "unions.toml"),
        UNION_COLUMNS,
        "matching",
    ),
    Catalogue(
        "aid",
        AidProgramme,
        lambda data: load_entries(data / "aid_programmes.toml", "programmes", PROGRAMME_COLUMNS),
        PROGRAMME_COLUMNS,
        "definition",
        staff_editable=(("opens",), ("closes",), ("summary",), ("definition", "quota", "limits")),
    ),
    Catalogue(
        "competition",
        Competition,
        lambda data: load_entries(data / "competitions.toml", "competitions", COMPETITION_COLUMNS),
        COMPETITION_COLUMNS,
        "definition",
        staff_editable=tuple((name,) for name in COMPETITION_STAFF_COLUMNS),
    ),
    Catalogue(
        "benefit",
        Benefit,
        lambda data: load_benefits(data / "benefits.toml"),
        BENEFIT_COLUMNS,
        "matching",
    ),
    Catalogue(
        "campaign",
        Campaign,
        lambda data: _read(data / "campaigns.toml")["campaigns"],
        CAMPAIGN_COLUMNS,
        "audience",
        after_sync=file_changed,
    ),
)
BENEFITS = next(c for c in CATALOGUES if c.kind == "benefit")


def sync_catalogue(session: Session, catalogue: Catalogue, data_dir: Path) -> list[RowSync]:
    """Add the rows ``data_dir`` has and the database lacks, and bring the file's changes
    to the rows it has where they are the file's; one report per row, file order.

    Rows are locked first (PostgreSQL) so an admin edit waits instead of being
    overwritten; on SQLite the caller's transaction holds the write lock."""
    model = catalogue.model
    rows = {row.code: row for row in session.scalars(select(model).with_for_update())}
    reports = []
    for entry in catalogue.load(data_dir):
        values = catalogue.file_values(entry)
        report = RowSync(catalogue.kind, entry["code"])
        row = rows.get(entry["code"])
        if row is None:
            session.add(model(code=entry["code"], **values, synced=copy.deepcopy(values)))
            report.added = True
        else:
            sync_row(row, values, catalogue.staff_editable, report)
            if catalogue.after_sync:
                catalogue.after_sync(row, report)
        reports.append(report)
    session.flush()
    return reports


def seed_catalogue(session: Session, data_dir: Path = DATA) -> list[RowSync]:
    """Bring the data files' organisations, programmes, competitions and benefits to the
    database."""
    return [report for kind in CATALOGUES for report in sync_catalogue(session, kind, data_dir)]


def seed_benefits(session: Session) -> int:
    """Bring the benefits alone up to date; return how many were added."""
    return sum(report.added for report in sync_catalogue(session, BENEFITS, DATA))


def report_lines(reports: list[RowSync]) -> list[str]:
    """The operator's summary: one line per kind for rows added, one per row changed."""
    lines = []
    for catalogue in CATALOGUES:
        added = [r.code for r in reports if r.kind == catalogue.kind and r.added]
        if added:
            lines.append(f"{catalogue.kind}: added {', '.join(added)}")
    lines += [r.line() for r in reports if r.changed and not r.added]
    return lines


DEMO_CONTEST = "forklift"


def _demo_id_number(n: int) -> str:
    """A well-formed, fictional ID number (GB 11643 check digit) for demo entrant ``n``."""
    body = f"32092419{80 + n % 20:02d}0{1 + n % 9}{10 + n % 18:02d}{n % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def seed_demo_entrants(session: Session, season: int) -> int:
    """Fill all but one place of the demo's open contest, so one sign-up takes the last
    place and the next lands on the waitlist (fictional people, no WeChat account)."""
    contest = session.get(Competition, DEMO_CONTEST)
    if contest is None or not contest.capacity:
        return 0
    existing = session.scalar(
        select(func.count())
        .select_from(CompetitionEntry)
        .where(CompetitionEntry.competition_code == DEMO_CONTEST)
    )
    if existing:
        return 0
    now = utcnow()
    for n in range(1, contest.capacity):
        id_number = _demo_id_number(n)
        unit = f"演示单位{n:02d}"
        session.add(
            CompetitionEntry(
                competition_code=DEMO_CONTEST,
                season=season,
                status=CONFIRMED,
                answers={"name": f"演示选手{n:02d}", "id_number": id_number, "employer": unit},
                unit=unit.upper(),
                id_hash=person_hash(id_number),
                person_key=f"{DEMO_CONTEST}:{season}:{person_hash(id_number)}",
                created_at=now,
                updated_at=now,
            )
        )
    return contest.capacity - 1


def seed_demo(session: Session, admin_password: str, data_dir: Path = DATA) -> list[RowSync]:
    """The catalogue, the demo staff account and demo entrants; the catalogue's reports."""
    reports = seed_catalogue(session, data_dir)
    session.flush()
    upsert_staff(session, DEMO_ADMIN, admin_password, display_name="演示管理员", role="admin")
    contest = session.get(Competition, DEMO_CONTEST)
    if contest is not None:
        today = utcnow().astimezone(SHANGHAI).date()
        season = window_on(contest.opens, contest.closes, today).season
        seed_demo_entrants(session, season)
    return reports
