"""records retention: disposal, legal hold, a disposal log, audit redaction

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:00:00

The audit trail stays append-only with one exception, enforced by the database: the
retention sweep may redact a row once, setting `redacted_at` and `redaction` and removing
exactly the free-text keys from its detail. Every other UPDATE, and every DELETE, is
still refused.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen here on purpose (a migration must not change when the code does); the test
# suite checks it matches bot.domain.retention.FREE_TEXT_KEYS.
FREE_TEXT_KEYS = ("note", "outcome", "reason", "name", "file", "text", "to_reporter")
REFUSED = "the audit trail is append-only"


def _time(name: str) -> sa.Column:
    return sa.Column(name, bot.storage.tables.UTCDateTime(timezone=True), nullable=True)


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy), so SQLite keeps the audit table and its triggers.
    op.add_column("case", _time("disposed_at"))
    op.add_column("case", _time("held_at"))
    op.add_column("case", _text("held_by", 130))
    op.add_column("case", _text("hold_reason", 1000))
    op.add_column("official_account", _time("disposed_at"))
    op.add_column("comment", _time("disposed_at"))
    op.add_column("audit_event", _time("redacted_at"))
    op.add_column("audit_event", _text("redaction", 200))
    op.create_table(
        "disposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", bot.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("record_type", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("record", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("rule_words", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("files_deleted", sa.Integer(), nullable=False),
        sa.Column("audit_rows_redacted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disposal_at", "disposal", ["at"])
    _allow_only_redaction()


def _allow_only_redaction() -> None:
    if op.get_bind().dialect.name == "postgresql":
        keys = ", ".join(f"'{k}'" for k in FREE_TEXT_KEYS)
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
            "BEGIN "
            "IF TG_OP = 'UPDATE' AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL "
            "AND NEW.redaction IS NOT NULL AND NEW.id = OLD.id AND NEW.at = OLD.at "
            "AND NEW.actor = OLD.actor AND NEW.action = OLD.action "
            "AND NEW.subject = OLD.subject "
            f"AND NEW.detail::jsonb = (OLD.detail::jsonb - ARRAY[{keys}]) THEN RETURN NEW; "
            "END IF; "
            f"RAISE EXCEPTION '{REFUSED}'; END; $$ LANGUAGE plpgsql"
        )
        return
    paths = ", ".join(f"'$.{k}'" for k in FREE_TEXT_KEYS)
    op.execute("DROP TRIGGER audit_event_no_update")
    op.execute(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "WHEN NOT (OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL "
        "AND NEW.redaction IS NOT NULL AND NEW.id = OLD.id AND NEW.at IS OLD.at "
        "AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action "
        "AND NEW.subject IS OLD.subject "
        f"AND json(NEW.detail) IS json_remove(OLD.detail, {paths})) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSED}'; END; $$ LANGUAGE plpgsql"
        )
    else:
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
    op.drop_index("ix_disposal_at", table_name="disposal")
    op.drop_table("disposal")
    # SQLite can drop columns natively (3.35+); these have no index or constraint.
    for table, column in (
        ("audit_event", "redaction"),
        ("audit_event", "redacted_at"),
        ("comment", "disposed_at"),
        ("official_account", "disposed_at"),
        ("case", "hold_reason"),
        ("case", "held_by"),
        ("case", "held_at"),
        ("case", "disposed_at"),
    ):
        op.drop_column(table, column)
