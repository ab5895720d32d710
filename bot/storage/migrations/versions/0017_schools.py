"""schools: a trust's schools, every school's row marked with its school, and row-level
security on PostgreSQL

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:10:00

School 1 is the school the install had: its pack, name and timezone stay empty, meaning
"as the settings say", so nothing changes for a trust of one. Every existing row becomes
school 1's. References unique today become unique per school (FR-0001 in each school).

On PostgreSQL every school table gets a forced row-level security policy: a row is seen
and written only in a transaction whose `app.school_id` is its school, or whose
`app.trust_scope` is 'on' (trust-wide jobs, audited). See docs/schools.md.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Tables whose key or unique reference becomes per school: old columns -> new columns.
KEYED = {
    "role_assignment": ("unique", ("platform", "user_id", "role")),
    "case": ("unique", ("ref",)),
    "comment": ("unique", ("external_id",)),
    "reminder": ("unique", ("key",)),
    "policy_read": ("unique", ("platform", "user_id", "year")),
    "dialog_state": ("primary", ("platform", "user_id")),
    "counter": ("primary", ("name",)),
    "inbox_cursor": ("primary", ("platform", "user_id")),
    "conversation_ref": ("primary", ("platform", "key")),
}
# Tables that only gain the column (and an index on it).
PLAIN = (
    "case_task", "evidence", "approval", "approval_decision", "official_account",
    "audit_event", "outbox", "accepted_request", "comment", "web_sign_in", "web_session",
    "disposal",
)  # fmt: skip
SCHOOL_TABLES = tuple(dict.fromkeys((*KEYED, *PLAIN)))
# NULLIF: a setting set earlier on this connection and ended with its transaction reads
# as '' (not NULL), which must match no school rather than fail to cast.
VISIBLE = (
    "school_id = NULLIF(current_setting('app.school_id', true), '')::int "
    "OR current_setting('app.trust_scope', true) = 'on'"
)


def _school_column() -> sa.Column:
    return sa.Column("school_id", sa.Integer(), nullable=False, server_default="1")


def upgrade() -> None:
    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("pack", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("calendar", sa.JSON(), nullable=True),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    school = sa.table(
        "school",
        sa.column("id", sa.Integer),
        sa.column("key", sa.String),
        sa.column("created_at", bot.storage.types.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(school, [{"id": 1, "key": "school", "created_at": datetime.now(UTC)}])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # The next school added gets 2, whatever id the first was inserted with.
        op.execute("SELECT setval(pg_get_serial_sequence('school', 'id'), 1)")
    for table, (kind, columns) in KEYED.items():
        (_rekey_postgres if postgres else _rekey_sqlite)(table, kind, columns)
    for table in PLAIN:
        if table in KEYED:
            continue
        if postgres:
            op.add_column(table, _school_column())
            op.create_foreign_key(None, table, "school", ["school_id"], ["id"])
        else:
            # A plain ADD COLUMN keeps the table (and the audit trail's triggers); the
            # migration runs with foreign keys off (env.py), which this REFERENCES needs.
            op.execute(
                f'ALTER TABLE "{table}" ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1 '
                "REFERENCES school (id)"
            )
        op.create_index(f"ix_{table}_school_id", table, ["school_id"])
    _adopt_other_school_tables(postgres=postgres)
    if postgres:
        for table in SCHOOL_TABLES:
            op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
            op.execute(
                f'CREATE POLICY school_isolation ON "{table}" '
                f"USING ({VISIBLE}) WITH CHECK ({VISIBLE})"
            )


def _adopt_other_school_tables(*, postgres: bool) -> list[str]:
    """Tables that already had a `school_id` (DEFAULT 1) before the school table existed,
    from migrations merged before this one, get its foreign key. They are trust-wide, so
    no row-level security: routing read before a request's school is known (a Slack
    workspace's or a Teams team's school), the once-a-day job claims, and evidence bytes
    named by their SHA-256, reached only through an evidence row, which is isolated.
    Their names."""
    inspector = sa.inspect(op.get_bind())
    adopted = []
    for table in inspector.get_table_names():
        columns = {c["name"] for c in inspector.get_columns(table)}
        if table in SCHOOL_TABLES or table == "school" or "school_id" not in columns:
            continue
        adopted.append(table)
        pointing = any(fk["referred_table"] == "school" for fk in inspector.get_foreign_keys(table))
        if pointing:
            continue
        if postgres:
            op.create_foreign_key(None, table, "school", ["school_id"], ["id"])
        else:
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.create_foreign_key(f"fk_{table}_school_id", "school", ["school_id"], ["id"])
    return adopted


def _rekey_postgres(table: str, kind: str, columns: tuple[str, ...]) -> None:
    op.add_column(table, _school_column())
    op.create_foreign_key(None, table, "school", ["school_id"], ["id"])
    inspector = sa.inspect(op.get_bind())
    if kind == "primary":
        name = inspector.get_pk_constraint(table)["name"]
        op.drop_constraint(name, table, type_="primary")
        op.create_primary_key(name, table, ["school_id", *columns])
        return
    old = next(
        u["name"]
        for u in inspector.get_unique_constraints(table)
        if tuple(u["column_names"]) == columns
    )
    op.drop_constraint(old, table, type_="unique")
    op.create_unique_constraint(f"uq_{table}_school_{columns[0]}", table, ["school_id", *columns])
    if table == "comment":
        op.create_index("ix_comment_school_id", table, ["school_id"])


def _rekey_sqlite(table: str, kind: str, columns: tuple[str, ...]) -> None:
    """SQLite can't change a key in place: the table is copied (foreign keys are off)."""
    conventions = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
    # SQLAlchemy warns that the copy's key is not the old one: that is the point.
    with (
        warnings.catch_warnings(),
        op.batch_alter_table(table, recreate="always", naming_convention=conventions) as batch,
    ):
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        batch.add_column(_school_column())
        batch.create_foreign_key(f"fk_{table}_school_id", "school", ["school_id"], ["id"])
        if kind == "primary":
            batch.create_primary_key(f"pk_{table}", ["school_id", *columns])
        else:
            batch.drop_constraint(f"uq_{table}_{columns[0]}", type_="unique")
            batch.create_unique_constraint(
                f"uq_{table}_school_{columns[0]}", ["school_id", *columns]
            )
            if table == "comment":
                batch.create_index("ix_comment_school_id", ["school_id"])


def downgrade() -> None:
    raise NotImplementedError("a trust's schools can't be folded back into one school")
