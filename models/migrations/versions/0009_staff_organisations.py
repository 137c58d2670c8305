"""Union organisations and staff roles: filled in by the staff-access work (issue 13, authorisation).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 23:40:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import models.base  # noqa: F401


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
