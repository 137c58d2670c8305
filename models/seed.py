"""Data every install starts with (the aid programmes) and the demo's extras.

Idempotent: running it again adds what is missing and leaves what staff
changed alone (only the demo password is reset).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from models.aid import AidProgramme
from models.staff import upsert_staff

DEMO_ADMIN = "admin"
DATA = Path(__file__).parent / "data"
PROGRAMME_TEXTS = ("privacy_notice", "privacy_refusal", "notice_version")


def load_programmes(path: Path = DATA / "aid_programmes.toml") -> list[dict[str, Any]]:
    """The programmes in ``path``, each with its fields resolved from the shared field list."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    library = data["fields"]
    programmes = []
    for entry in data["programmes"]:
        unknown = [key for key in entry["fields"] if key not in library]
        if unknown:
            raise ValueError(f"{path}: programme {entry['code']} uses unknown fields {unknown}")
        definition = {k: v for k, v in entry.items() if k not in ("code", "name", "summary")}
        definition["fields"] = [{"key": key, **library[key]} for key in entry["fields"]]
        definition.update({key: data[key] for key in PROGRAMME_TEXTS})
        programmes.append(
            definition | {"code": entry["code"], "name": entry["name"], "summary": entry["summary"]}
        )
    return programmes


def seed_programmes(session: Session, path: Path | None = None) -> int:
    """Add the programmes the database lacks; return how many were added."""
    added = 0
    for entry in load_programmes(path) if path else load_programmes():
        if session.get(AidProgramme, entry["code"]) is not None:
            continue
        definition = {
            k: v
            for k, v in entry.items()
            if k not in ("code", "name", "summary", "opens", "closes", "position")
        }
        session.add(
            AidProgramme(
                code=entry["code"],
                name=entry["name"],
                summary=entry["summary"],
                opens=entry.get("opens"),
                closes=entry.get("closes"),
                position=entry.get("position", 0),
                definition=definition,
            )
        )
        added += 1
    session.flush()
    return added


def seed_demo(session: Session, admin_password: str) -> None:
    """The programmes and the demo staff account."""
    seed_programmes(session)
    upsert_staff(session, DEMO_ADMIN, admin_password, display_name="演示管理员", role="admin")
