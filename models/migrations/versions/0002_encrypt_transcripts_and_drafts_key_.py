"""Encrypt transcripts and conversation drafts; record which data keys wrote here.

Existing rows are encrypted in place with the data key the running process
installed (``unionbot init-db`` / ``serve`` install it before migrating).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import models.base
from models import crypto

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, primary key, column, was JSON)
COLUMNS = [
    ("deliveries", "id", "payload", True),
    ("deliveries", "id", "replies", True),
    ("deliveries", "id", "content", False),
]


def _rewrite(table: str, pk: str, column: str, convert) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
    ).all()
    for key, value in rows:
        bind.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE {pk} = :key"),  # noqa: S608
            {"value": convert(value), "key": key},
        )


def _create_conversations(data_type: sa.types.TypeEngine, key: list[str]) -> None:
    op.create_table(
        "conversations",
        sa.Column("follower_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("data", data_type, nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["follower_id"], ["followers.id"],
                                name=op.f("fk_conversations_follower_id_followers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_conversations")),
    )


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("check_value", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_key_checks")),
    )
    # No flow used conversations before this revision: recreate the table with
    # one row per (follower, flow) and encrypted drafts.
    op.drop_table("conversations")
    _create_conversations(sa.Text(), ["follower_id", "flow"])
    for table, _, column, was_json in COLUMNS:
        if was_json:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(
                    column,
                    existing_type=sa.JSON(),
                    type_=sa.Text(),
                    postgresql_using=f"{column}::text",
                )
    for table, pk, column, _ in COLUMNS:
        _rewrite(table, pk, column, lambda value: crypto.keyring().encrypt(value))


def downgrade() -> None:
    for table, pk, column, _ in COLUMNS:
        _rewrite(table, pk, column, lambda value: crypto.keyring().decrypt(value))
    for table, _, column, was_json in COLUMNS:
        if was_json:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(
                    column,
                    existing_type=sa.Text(),
                    type_=sa.JSON(),
                    postgresql_using=f"{column}::json",
                )
    op.drop_table("conversations")
    _create_conversations(sa.JSON(), ["follower_id"])
    op.drop_table("key_checks")
