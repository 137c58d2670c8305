"""Programmes, competitions and benefits keep a snapshot of the data file as last synced

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00.000000

Existing rows get no snapshot (NULL): the first ``unionbot sync-data`` decides
which of their values are staff's (see models.data_sync).
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ('aid_programmes', 'competitions', 'benefits')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('synced', sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('synced')
