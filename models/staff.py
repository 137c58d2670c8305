"""Union staff who sign in to the admin, and the rules their passwords follow."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import Base, created_at, utcnow
from models.orgs import COUNTY_CODE
from models.staff_sessions import revoke_sessions

# Long enough that guessing online is hopeless behind the lockout; no composition rules,
# which push people to predictable patterns (NIST SP 800-63B).
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128


class PasswordTooShort(ValueError):
    pass


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="reviewer")
    # The union organisation the account works for: it sees that one and those below.
    org_code: Mapped[str] = mapped_column(ForeignKey("union_orgs.code"), default=COUNTY_CODE)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[created_at]
    # Sign-in failures since the last success; the account locks at the configured count.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Set by an admin's reset: the temporary password only opens the change-password page.
    must_change_password: Mapped[bool] = mapped_column(default=False)

    def set_password(self, password: str) -> None:
        """Hash with werkzeug's scrypt (memory-hard; no extra dependency for argon2)."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise PasswordTooShort(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def find_staff(session: Session, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).one_or_none()


def upsert_staff(
    session: Session,
    username: str,
    password: str,
    display_name: str,
    role: str = "admin",
    org_code: str = COUNTY_CODE,
) -> StaffUser:
    """Create the account or reset its password (ending its sessions, as any password change
    does); used by the CLI and the demo seed."""
    user = find_staff(session, username)
    if user is None:
        user = StaffUser(username=username, display_name=display_name, role=role)
        session.add(user)
    user.display_name = display_name
    user.role = role
    user.org_code = org_code
    user.active = True
    user.failed_logins, user.locked_until = 0, None
    user.set_password(password)
    if user.id is not None:
        revoke_sessions(session, user.id, utcnow())
    return user
