"""Issue 25 point 1: an install of one school upgrades to schools with nothing lost, every
row its school 1's, and keeps working with no new setting (a trust of one). SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain.schools import School
from bot.storage import db
from bot.storage import repository as repo
from bot.storage.schools import add_school
from tests.helpers import fresh_postgres, make_service, postgres_problem, say

BEFORE_SCHOOLS = "0012"
# Tables the migrations between 0012 and the schools migration add (empty on upgrade).
ADDED_ON_THE_WAY = {
    "daily_run", "teams_school", "slack_installation", "slack_workspace_school",
    "slack_oauth_state", "evidence_blob",
}  # fmt: skip
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database as a single-school install left it, before schools existed."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        db.upgrade(url, BEFORE_SCHOOLS)
        yield url
        return
    if problem := postgres_problem():
        pytest.skip(problem)
    for url in fresh_postgres():
        db.upgrade(url, BEFORE_SCHOOLS)
        yield url


def _value(column: sa.Column[Any], row: int) -> Any:
    """A plausible value of the column's type for the row-th row (ids and keys differ)."""
    kind = column.type
    if column.foreign_keys:
        return row  # every table it may point at has rows 1 and 2
    if isinstance(kind, sa.Boolean):
        return row % 2 == 0
    if isinstance(kind, sa.Integer):
        return row if column.primary_key or column.name in {"year", "stage"} else 7 * row
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.Date):
        return date(2026, 9, row)
    if isinstance(kind, sa.JSON):
        return {"row": row} if column.name != "flags" else ["flag"]
    if column.name == "ref":
        return f"FR-{row:04d}"
    if column.name == "name" and column.table.name == "counter":
        return "FR"
    if column.name == "dialog":
        return "friend_request"
    length = getattr(kind, "length", None) or 100
    return f"{row}-{column.name}"[:length]


def _fill(url: str, rows: int = 2) -> dict[str, list[dict[str, Any]]]:
    """Rows in every table of the old schema (the triggers allow inserts); what was written."""
    engine = db.make_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    written: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            if table.name == "counter":
                connection.execute(table.delete())  # a migration may have started it
                rows_here = [{"name": "FR", "value": 7}]
            else:
                rows_here = [{c.name: _value(c, n) for c in table.columns} for n in (1, rows)]
            connection.execute(table.insert(), rows_here)
            written[table.name] = rows_here
            if engine.dialect.name == "postgresql" and "id" in table.c:  # ids given above
                connection.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), 9)")
                )
    engine.dispose()
    return written


def _read(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = db.make_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        tables = {
            t.name: [dict(r._mapping) for r in connection.execute(sa.select(t))]
            for t in metadata.sorted_tables
        }
    engine.dispose()
    return tables


@pytest.mark.issue(25, 1)
def test_1_an_upgraded_install_keeps_every_row_as_its_first_schools(old_database, clock, tmp_path):
    _fill(old_database)
    before = _read(old_database)
    db.upgrade(old_database)
    after = _read(old_database)
    assert [s["id"] for s in after["school"]] == [1]
    assert after["school"][0]["key"] == "school"
    assert after["school"][0]["pack"] is None  # as SCHOOLBOT_POLICY says: no new setting
    del before["alembic_version"], after["alembic_version"]
    assert set(after) == set(before) | {"school"} | ADDED_ON_THE_WAY
    for table, rows in before.items():
        assert len(rows) >= 1, table
        kept = after[table]
        if table != "processed_delivery":  # inbound ids: the trust's, no school's data
            assert {row.pop("school_id") for row in kept} == {1}, table
        assert sorted(kept, key=repr) == sorted(rows, key=repr), table


@pytest.mark.issue(25, 1)
def test_1_the_upgraded_school_keeps_numbering_and_a_second_school_starts_its_own(
    old_database, clock, tmp_path
):
    _fill(old_database)
    db.upgrade(old_database)
    first = make_service(old_database, "default", clock, tmp_path / "evidence")
    say(first, "alice", "friend request", "1", "no", "instagram", "no", "no")
    with first.kernel.session() as session:
        assert repo.case_by_ref(session, "FR-0008") is not None  # after the old FR-0007
        assert repo.case_by_ref(session, "FR-0001") is not None  # the old one, still there
        second = add_school(session, School(0, "kings"), NOW)
        session.commit()
    other = make_service(
        old_database, "dukeries-academy", clock, tmp_path / "evidence", school_id=second.id
    )
    say(other, "alice", "friend request", "1", "no", "instagram", "no", "no")
    with other.kernel.session() as session:
        own = repo.case_by_ref(session, "FR-0001")
        assert own is not None and own.school_id == second.id
        assert repo.case_by_ref(session, "FR-0008") is None  # the first school's
        assert repo.recent_cases(session, include_closed=True) == [own]
    with first.kernel.session() as session:
        assert {c.ref for c in repo.recent_cases(session, include_closed=True)} == {
            "FR-0001", "FR-0002", "FR-0008",
        }  # fmt: skip


@pytest.mark.issue(25, 1)
def test_1_a_table_merged_earlier_with_a_school_column_is_adopted(old_database):
    """Another migration before this one added a table with `school_id DEFAULT 1` (no
    school table to point at yet): it gets the foreign key. It is trust-wide (routing, job
    claims, evidence bytes reached through isolated rows), so no row-level policy."""
    engine = db.make_engine(old_database)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE earlier_work (id INTEGER PRIMARY KEY, "
                "school_id INTEGER NOT NULL DEFAULT 1)"
            )
        )
        connection.execute(sa.text("INSERT INTO earlier_work (id) VALUES (1)"))
    engine.dispose()
    db.upgrade(old_database)
    engine = db.make_engine(old_database)
    inspector = sa.inspect(engine)
    [fk] = inspector.get_foreign_keys("earlier_work")
    assert fk["referred_table"] == "school" and fk["constrained_columns"] == ["school_id"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT school_id FROM earlier_work")).scalar() == 1
        if engine.dialect.name == "postgresql":
            policies = connection.execute(
                sa.text("SELECT count(*) FROM pg_policies WHERE tablename = 'earlier_work'")
            ).scalar()
            assert policies == 0
    engine.dispose()
