"""Slack installed per school: installations with encrypted tokens, OAuth states, and the
Enterprise Grid map of workspace to school

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.storage.tables import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column:
    return sa.Column(name, sa.String(32), nullable=True)


def upgrade() -> None:
    op.create_table(
        "slack_installation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("enterprise_key", sa.String(32), nullable=False),
        sa.Column("team_key", sa.String(32), nullable=False),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        _id("app_id"),
        sa.Column("team_name", sa.String(200), nullable=True),
        _id("bot_id"),
        _id("bot_user_id"),
        sa.Column("bot_scopes", sa.Text(), nullable=True),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("bot_token_expires_at", UTCDateTime(), nullable=True),
        _id("installer_user_id"),
        sa.Column("user_scopes", sa.Text(), nullable=True),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column("user_token_expires_at", UTCDateTime(), nullable=True),
        sa.Column("installed_at", UTCDateTime(), nullable=False),
        sa.Column("refreshing_until", UTCDateTime(), nullable=True),
        sa.Column("disconnected_at", UTCDateTime(), nullable=True),
        sa.Column("disconnected_reason", sa.String(40), nullable=True),
        _id("dsl_channel"),
        _id("slt_channel"),
        sa.UniqueConstraint("enterprise_key", "team_key"),
    )
    op.create_index("ix_slack_installation_school_id", "slack_installation", ["school_id"])
    op.create_table(
        "slack_workspace_school",
        sa.Column("enterprise_id", sa.String(32), primary_key=True),
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "slack_oauth_state",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_state")
    op.drop_table("slack_workspace_school")
    op.drop_index("ix_slack_installation_school_id", "slack_installation")
    op.drop_table("slack_installation")
