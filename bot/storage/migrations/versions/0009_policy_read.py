"""policy-read confirmations: the "I've read it" button on the yearly reminder

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "user_id", "year"),
    )
    op.create_index("ix_policy_read_user_id", "policy_read", ["user_id"])
    op.create_index("ix_policy_read_confirmed_at", "policy_read", ["confirmed_at"])


def downgrade() -> None:
    op.drop_index("ix_policy_read_confirmed_at", table_name="policy_read")
    op.drop_index("ix_policy_read_user_id", table_name="policy_read")
    op.drop_table("policy_read")
