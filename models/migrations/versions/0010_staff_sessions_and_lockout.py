"""Server-side staff sessions, sign-in lockout and audit: filled in by the staff-access work (issue 13, sessions).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 23:40:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import models.base  # noqa: F401


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
