"""Deliveries: a worker's latest found by one index

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 06:30:00

The intake reads the worker's previous delivery with every message (the double
tap). With an index on the follower alone, PostgreSQL answered ``ORDER BY id DESC
LIMIT 1`` by walking the primary key backwards and filtering, past every delivery
anyone sent since this worker's last one: 8,246 rows for a worker back after a
benchmark's worth of others, and in a year's table, hundreds of thousands.
``(follower_id, id)`` finds it in one step and serves the follower alone too.
"""

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        # CONCURRENTLY: a plain CREATE INDEX would hold every new delivery (the webhook's
        # insert) until a large table is indexed; it cannot run inside a transaction.
        with op.get_context().autocommit_block():
            op.create_index(
                'ix_deliveries_follower_latest', 'deliveries', ['follower_id', 'id'],
                postgresql_concurrently=True, if_not_exists=True,
            )
            op.drop_index(
                'ix_deliveries_follower_id', table_name='deliveries',
                postgresql_concurrently=True, if_exists=True,
            )
        return
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_follower_latest', ['follower_id', 'id'], unique=False)
        batch_op.drop_index('ix_deliveries_follower_id')


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_follower_id', ['follower_id'], unique=False)
        batch_op.drop_index('ix_deliveries_follower_latest')
