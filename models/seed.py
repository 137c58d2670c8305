"""Demo data for a fresh install: what a new user needs to try the service at once.

Idempotent: running it again changes nothing but resets the demo password.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.staff import upsert_staff

DEMO_ADMIN = "admin"


def seed_demo(session: Session, admin_password: str) -> None:
    """Create the demo staff account (and, as later features land, their demo data)."""
    upsert_staff(session, DEMO_ADMIN, admin_password, display_name="演示管理员", role="admin")
