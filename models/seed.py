"""Data every install starts with (aid programmes, competitions, benefits) and the demo's extras.

Idempotent: running it again adds what is missing and leaves what staff
changed alone (only the demo password is reset).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.aid import AidProgramme, person_hash
from models.base import Base, utcnow
from models.benefit import Benefit
from models.competition import CONFIRMED, Competition, CompetitionEntry
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

    Each entry lists field keys; they are resolved from ``fields.toml`` so a
    question is written once however many forms ask it.
    """
    data = _read(path)
    library = _read(DATA / "fields.toml")["fields"]
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


def _add_missing(session: Session, model: type[Base], entries: list[dict[str, Any]]) -> int:
    added = 0
    for entry in entries:
        if session.get(model, entry["code"]) is None:
            session.add(model(**entry))
            added += 1
    session.flush()
    return added


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


def seed_programmes(session: Session) -> int:
    """Add the aid programmes the database lacks; return how many were added."""
    entries = load_entries(DATA / "aid_programmes.toml", "programmes", PROGRAMME_COLUMNS)
    return _add_missing(session, AidProgramme, entries)


def seed_competitions(session: Session) -> int:
    """Add the competitions the database lacks; return how many were added."""
    entries = load_entries(DATA / "competitions.toml", "competitions", COMPETITION_COLUMNS)
    return _add_missing(session, Competition, entries)


BENEFIT_COLUMNS = ("code", "title", "answer", "audience", "how", "link", "position")


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


def seed_benefits(session: Session) -> int:
    """Add the benefits the database lacks; return how many were added."""
    return _add_missing(session, Benefit, load_benefits())


def seed_catalogue(session: Session) -> None:
    """What every install starts with."""
    seed_programmes(session)
    seed_competitions(session)
    seed_benefits(session)


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


def seed_demo(session: Session, admin_password: str) -> None:
    """The catalogue, the demo staff account and demo entrants."""
    seed_catalogue(session)
    session.flush()
    upsert_staff(session, DEMO_ADMIN, admin_password, display_name="演示管理员", role="admin")
    contest = session.get(Competition, DEMO_CONTEST)
    if contest is not None:
        today = utcnow().astimezone(SHANGHAI).date()
        season = window_on(contest.opens, contest.closes, today).season
        seed_demo_entrants(session, season)
