"""Issue 25 point 2: a session is one school's. New rows take its school, a row for another
school is refused, and a row of another school read by id is never handed back, on SQLite
(which has no row-level security) as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.schools import School
from bot.storage import db
from bot.storage.schools import add_school
from bot.storage.scoping import CrossSchool, SchoolSession, get_in_school
from bot.storage.tables import Case

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _case(ref: str, **extra: object) -> Case:
    return Case(
        ref=ref, kind="FR", status="open", team="dsl", platform="console", reporter_id="u1",
        created_at=NOW, updated_at=NOW, **extra,
    )  # fmt: skip


@pytest.mark.issue(25, 2)
def test_2_a_session_keeps_to_its_school(database_url):
    engine = db.make_engine(database_url)
    with SchoolSession(engine, school_id=1, expire_on_commit=False) as session:
        second = add_school(session, School(0, "kings"), NOW).id
        first_case = _case("FR-0001")
        session.add(first_case)
        session.commit()
    assert first_case.school_id == 1  # stamped from the session
    with SchoolSession(engine, school_id=second) as session:
        assert get_in_school(session, Case, first_case.id) is None
        with pytest.raises(CrossSchool, match="a Case of school 1 read in a session of school 2"):
            session.get(Case, first_case.id)
    with SchoolSession(engine, school_id=second) as session:
        session.add(_case("FR-0001", school_id=1))
        with pytest.raises(CrossSchool, match="added in a session of school 2"):
            session.flush()
    with SchoolSession(engine, school_id=second) as session:
        session.add(_case("FR-0001"))  # the same reference, in its own school
        session.commit()
    with SchoolSession(engine, school_id=1) as session:
        assert get_in_school(session, Case, first_case.id) is not None
    engine.dispose()
