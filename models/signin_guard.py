"""Checking a sign-in: the password, the account's lockout, the source address's limit.

Every outcome takes the same work (one scrypt check), so the time to refuse says
nothing about whether the account exists, is locked or is disabled; and every
attempt is written to the audit log. Refusals all read alike for the same reason.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from models.audit import audit
from models.base import Base
from models.staff import StaffUser


class Outcome(StrEnum):
    SIGNED_IN = "login"
    FAILED = "login_failed"
    # The failure that locked the account.
    LOCKED_NOW = "lockout"
    # An attempt on an account already locked (refused whatever the password).
    LOCKED = "login_locked"
    # The source address made too many failed attempts; the password was not checked.
    THROTTLED = "login_throttled"


@dataclass(frozen=True)
class GuardPolicy:
    max_failures: int
    lockout: dt.timedelta
    address_max_failures: int
    address_window: dt.timedelta


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    user: StaffUser | None = None


class AddressFailures(Base):
    """Failed sign-ins per source address in the current window, shared by every web worker."""

    __tablename__ = "signin_address_failures"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[dt.datetime]


@functools.cache
def _dummy_hash() -> str:
    # Hashed once per process with the same method and cost as real passwords.
    return generate_password_hash("unionbot: no such account")


def _address_row(session: Session, address: str, now: dt.datetime, window) -> AddressFailures:
    row = session.get(AddressFailures, address, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                row = AddressFailures(address=address, failures=0, window_started_at=now)
                session.add(row)
        except IntegrityError:  # another worker counted this address's first failure
            row = session.get(AddressFailures, address, with_for_update=True)
    if now - row.window_started_at > window:
        row.failures, row.window_started_at = 0, now
    return row


def check_sign_in(
    session: Session,
    username: str,
    password: str,
    address: str,
    now: dt.datetime,
    policy: GuardPolicy,
) -> Attempt:
    """Check one sign-in attempt, count failures, lock, and audit the outcome."""
    address = address[:64]
    source = _address_row(session, address, now, policy.address_window)
    # Locked, so that parallel attempts cannot each read the same failure count and slip
    # past the lockout (PostgreSQL; on SQLite the caller holds the write lock).
    user = session.scalars(
        select(StaffUser).where(StaffUser.username == username).with_for_update()
    ).one_or_none()
    subject = f"staff:{user.username}" if user is not None else "staff:(unknown)"
    if source.failures >= policy.address_max_failures:
        audit(session, "anonymous", Outcome.THROTTLED, subject, address, now=now)
        return Attempt(Outcome.THROTTLED)
    # Always one scrypt check: the dummy hash stands in for a missing account.
    matches = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not user.active:
        outcome = Outcome.FAILED
    elif user.locked_until is not None and user.locked_until > now:
        outcome = Outcome.LOCKED
    elif matches:
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        audit(session, subject, Outcome.SIGNED_IN, subject, address, now=now)
        return Attempt(Outcome.SIGNED_IN, user)
    else:
        user.failed_logins += 1
        outcome = Outcome.FAILED
        if user.failed_logins >= policy.max_failures:
            user.locked_until, user.failed_logins = now + policy.lockout, 0
            outcome = Outcome.LOCKED_NOW
    source.failures += 1
    audit(session, "anonymous", outcome, subject, address, now=now)
    return Attempt(outcome)
