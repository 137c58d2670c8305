"""Data every install starts with (aid programmes, competitions) and the demo's extras.

Idempotent: running it again adds what is missing and leaves what staff
changed alone (only the demo password is reset).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from models.aid import AidProgramme
from models.base import Base
from models.competition import Competition
from models.staff import upsert_staff

DEMO_ADMIN = "admin"
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


def seed_catalogue(session: Session) -> None:
    """What every install starts with."""
    seed_programmes(session)
    seed_competitions(session)


def seed_demo(session: Session, admin_password: str) -> None:
    """The catalogue and the demo staff account."""
    seed_catalogue(session)
    upsert_staff(session, DEMO_ADMIN, admin_password, display_name="演示管理员", role="admin")
