"""Server-side staff sessions, sign-in lockout, reasons in the audit log

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 23:40:00

``staff_sessions``: one row per sign-in, the cookie's token kept only as a SHA-256.
``signin_address_failures``: failed sign-ins per source address in the current window.
Staff accounts gain the lockout counters and ``must_change_password``; audit entries gain
the reason staff gave, and indexes for searching by actor and time.
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_sessions_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_sessions_token_hash'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_staff_id'), ['staff_id'], unique=False)

    op.create_table('signin_address_failures',
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('window_started_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_signin_address_failures'))
    )

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=200), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_audit_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor'))
        batch_op.drop_column('reason')

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')

    op.drop_table('signin_address_failures')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_staff_id'))

    op.drop_table('staff_sessions')
