"""which school each Microsoft Teams team (or channel) belongs to

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:20:00

Empty on upgrade: every team is then the first school's, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.tables

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_school",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("teams_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("school_id", sa.Integer(), server_default="1", nullable=False),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=130), nullable=False),
        sa.Column("added_at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "teams_id"),
    )


def downgrade() -> None:
    op.drop_table("teams_school")
