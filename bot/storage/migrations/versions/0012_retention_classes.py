"""retention classes on cases, and a disposal log that says who authorised each disposal
and cannot be changed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:00:00

The disposal log becomes append-only like the audit trail: the database refuses every
UPDATE and DELETE on it, on SQLite and PostgreSQL.
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION disposal_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSED}'; END; $$ LANGUAGE plpgsql"
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
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER disposal_no_{verb.lower()} BEFORE {verb} ON disposal "
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
