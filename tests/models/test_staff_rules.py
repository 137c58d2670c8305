"""What holds for staff accounts and the audit log whatever the page or command."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry
from models.audit import AuditIsAppendOnly, audit
from models.staff import PasswordTooShort, StaffUser


def test_a_password_shorter_than_ten_characters_is_never_set():
    user = StaffUser(username="wang", display_name="王", role="viewer")
    with pytest.raises(PasswordTooShort):
        user.set_password("123456789")
    user.set_password("1234567890")
    assert user.check_password("1234567890")


def test_audit_entries_cannot_be_changed_or_deleted(db):
    audit(db, "staff:wang", "reveal", "SY-2026-000001", "id_number", reason="核实申请人身份")
    db.commit()
    entry = db.scalars(select(AuditEntry)).one()
    entry.reason = "改过的原因"
    with pytest.raises(AuditIsAppendOnly):
        db.flush()
    db.rollback()
    db.delete(db.scalars(select(AuditEntry)).one())
    with pytest.raises(AuditIsAppendOnly):
        db.flush()
    db.rollback()
    assert db.scalars(select(AuditEntry.reason)).all() == ["核实申请人身份"]
