"""Reminder wishes; call-back requests keep the worker's words and number

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 20:31:17.371606

``reminder_wishes``: a worker who asked out of season to be told when a programme
or competition opens (``提醒我``); the campaigns send the notice and set
``notified_at``. Call-back requests gain the worker's own words (``note``) and
the number to call (``phone``), both encrypted like other personal data.
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reminder_wishes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('follower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('programme_code', sa.String(length=32), nullable=True),
    sa.Column('competition_code', sa.String(length=32), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('notified_at', models.base.UTCDateTime(), nullable=True),
    sa.CheckConstraint('(programme_code IS NULL) <> (competition_code IS NULL)', name=op.f('ck_reminder_wishes_one_subject')),
    sa.ForeignKeyConstraint(['competition_code'], ['competitions.code'], name=op.f('fk_reminder_wishes_competition_code_competitions')),
    sa.ForeignKeyConstraint(['follower_id'], ['followers.id'], name=op.f('fk_reminder_wishes_follower_id_followers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_code'], ['aid_programmes.code'], name=op.f('fk_reminder_wishes_programme_code_aid_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_wishes'))
    )
    with op.batch_alter_table('reminder_wishes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_wishes_competition_code'), ['competition_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_wishes_follower_id'), ['follower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_wishes_programme_code'), ['programme_code'], unique=False)

    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('handoff_requests', schema=None) as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('note')

    with op.batch_alter_table('reminder_wishes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_wishes_programme_code'))
        batch_op.drop_index(batch_op.f('ix_reminder_wishes_follower_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_wishes_competition_code'))

    op.drop_table('reminder_wishes')
