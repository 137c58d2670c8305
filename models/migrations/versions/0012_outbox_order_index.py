"""Outbox: a worker's notices in order

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 00:05:00

The claim skips a notice while an earlier one to the same worker is still to be
sent; ``ix_outbox_recipient_order`` finds that worker's unsent notices without
reading the ones already sent. ``ix_outbox_due`` ends with the id, the claim's
order, so PostgreSQL reads due rows in order and stops after the few it takes.
"""

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at', 'id'], unique=False)
        batch_op.create_index(
            'ix_outbox_recipient_order', ['recipient', 'status', 'id'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_recipient_order')
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
