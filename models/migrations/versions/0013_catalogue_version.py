"""The catalogue's version token

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 00:10:00

Processes keep the catalogue (benefits, programmes, competitions) in memory and
read this one row per message to see whether it changed (models/catalogue.py).
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('catalogue_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'token': 0}])


def downgrade() -> None:
    op.drop_table('catalogue_version')
