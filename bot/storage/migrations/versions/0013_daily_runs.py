"""once-a-day jobs run once across instances: a row per job, school and day

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.tables

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("lease_until", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_id", "job", "period"),
    )


def downgrade() -> None:
    op.drop_table("daily_run")
