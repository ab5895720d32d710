"""retention classes on cases, and a disposal log that says who authorised each disposal
and cannot be changed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:00:00

The disposal log becomes append-only like the audit trail: the database refuses every
DELETE on it, and every UPDATE but one (on SQLite and PostgreSQL): the count of evidence
files deleted, set once from 0, since files are deleted only after the disposal commits.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REFUSED = "the disposal log is append-only"
# Everything but `files_deleted`, which the sweep may set once, from 0, right after the
# files are deleted (they go only once the disposal is committed).
UNCHANGED = (
    "id", "at", "record_type", "record", "rule", "rule_words", "due_on", "by",
    "audit_rows_redacted", "method", "authorised_by",
)  # fmt: skip


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy), so SQLite keeps every table's triggers.
    op.add_column(
        "case",
        sa.Column("retention_class", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    )
    op.add_column("case", sa.Column("child_born_on", sa.Date(), nullable=True))
    op.add_column(
        "disposal",
        sa.Column(
            "method",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            nullable=False,
            server_default="automatic",
        ),
    )
    op.add_column(
        "disposal",
        sa.Column(
            "authorised_by",
            sqlmodel.sql.sqltypes.AutoString(length=200),
            nullable=False,
            server_default="",
        ),
    )
    same = " AND ".join(f'NEW."{c}" = OLD."{c}"' for c in UNCHANGED)  # "by" is reserved
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION disposal_append_only() RETURNS trigger AS $$ "
            "BEGIN "
            "IF TG_OP = 'UPDATE' AND OLD.files_deleted = 0 AND NEW.files_deleted > 0 "
            f"AND {same} THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{REFUSED}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER disposal_append_only BEFORE UPDATE OR DELETE ON disposal "
            "FOR EACH ROW EXECUTE FUNCTION disposal_append_only()"
        )
        # TRUNCATE skips row triggers: refuse it too.
        op.execute(
            "CREATE TRIGGER disposal_no_truncate BEFORE TRUNCATE ON disposal "
            "FOR EACH STATEMENT EXECUTE FUNCTION disposal_append_only()"
        )
    else:
        same_sqlite = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in UNCHANGED)
        op.execute(
            "CREATE TRIGGER disposal_no_update BEFORE UPDATE ON disposal "
            "WHEN NOT (OLD.files_deleted = 0 AND NEW.files_deleted > 0 "
            f"AND {same_sqlite}) "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
        op.execute(
            "CREATE TRIGGER disposal_no_delete BEFORE DELETE ON disposal "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS disposal_no_truncate ON disposal")
        op.execute("DROP TRIGGER IF EXISTS disposal_append_only ON disposal")
        op.execute("DROP FUNCTION IF EXISTS disposal_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS disposal_no_update")
        op.execute("DROP TRIGGER IF EXISTS disposal_no_delete")
    for table, column in (
        ("disposal", "authorised_by"),
        ("disposal", "method"),
        ("case", "child_born_on"),
        ("case", "retention_class"),
    ):
        op.drop_column(table, column)
