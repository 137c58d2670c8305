"""Union organisations; staff, applications and sign-ups belong to one

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 23:40:00

``union_orgs``: the county federation, town and park unions and grassroots unions, each
with its parent (rows come from ``models/data/unions.toml`` through the data sync).
Staff accounts gain the organisation they work for; accounts that already exist belong
to the county federation, so nobody sees less or more than before the upgrade.
Applications and competition sign-ups gain the worker's organisation (none when it was
not recognised, as for everything submitted before this revision: the county's).
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The county federation's code in the shipped unions.toml (models.orgs.COUNTY_CODE),
# written out: a migration must not change when the application code does.
COUNTY_CODE = 'sheyang'


def upgrade() -> None:
    op.create_table('union_orgs',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('matching', sa.JSON(), nullable=False),
    sa.Column('synced', sa.JSON(), nullable=True),
    sa.CheckConstraint("level IN ('county', 'town', 'grassroots')", name=op.f('ck_union_orgs_level')),
    sa.ForeignKeyConstraint(['parent_code'], ['union_orgs.code'], name=op.f('fk_union_orgs_parent_code_union_orgs')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_union_orgs'))
    )
    with op.batch_alter_table('union_orgs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_union_orgs_parent_code'), ['parent_code'], unique=False)

    # Existing accounts need their organisation before the column can be required; the
    # next data sync fills in the rest of the county's row and every other organisation.
    connection = op.get_bind()
    if connection.execute(sa.text('SELECT count(*) FROM staff_users')).scalar():
        connection.execute(
            sa.text(
                "INSERT INTO union_orgs (code, name, level, position, matching) "
                "VALUES (:code, '射阳县总工会', 'county', 1, '{\"aliases\": []}')"
            ),
            {'code': COUNTY_CODE},
        )
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_code', sa.String(length=32), nullable=True))
    connection.execute(sa.text('UPDATE staff_users SET org_code = :code'), {'code': COUNTY_CODE})
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.alter_column('org_code', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_staff_users_org_code_union_orgs'), 'union_orgs', ['org_code'], ['code'])

    for table in ('aid_applications', 'competition_entries'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('org_code', sa.String(length=32), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_org_code'), ['org_code'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_org_code_union_orgs'), 'union_orgs', ['org_code'], ['code'])


def downgrade() -> None:
    for table in ('competition_entries', 'aid_applications'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_org_code_union_orgs'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_org_code'))
            batch_op.drop_column('org_code')

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_users_org_code_union_orgs'), type_='foreignkey')
        batch_op.drop_column('org_code')

    with op.batch_alter_table('union_orgs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_union_orgs_parent_code'))

    op.drop_table('union_orgs')
