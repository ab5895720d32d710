"""Issue 25 point 2: on PostgreSQL, row-level security keeps schools apart whatever a
statement forgets, for a bot whose database role does not own the tables; the school is
set per transaction and gone when the connection goes back to the pool; trust-wide work
is explicit and audited. Run as real roles made here (a superuser would bypass it all)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.domain.schools import School
from bot.kernel.work import UnitOfWork
from bot.storage import db
from bot.storage.schools import add_school
from bot.storage.scoping import SchoolSession
from bot.storage.tables import AuditEvent, Case
from tests.helpers import owner_and_app_roles, postgres_problem

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def roles() -> Iterator[tuple[str, str]]:
    """(owner URL, bot URL): a database owned by a plain role, and the bot's own role."""
    if problem := postgres_problem():
        pytest.skip(problem)
    yield from owner_and_app_roles()


def _case(ref: str) -> Case:
    return Case(
        ref=ref, kind="FR", status="open", team="dsl", platform="console", reporter_id="u1",
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


@pytest.fixture
def two_schools(roles: tuple[str, str]) -> Iterator[tuple[sa.Engine, int]]:
    """The bot's engine (one pooled connection) and school 2; each school has two cases."""
    owner_url, app_url = roles
    db.upgrade(owner_url, app_url=app_url)  # migrates as the owner, grants rows to the bot
    engine = db.make_engine(app_url, pool_size=1, max_overflow=0)
    with SchoolSession(engine, school_id=1) as session:
        second = add_school(session, School(0, "kings"), NOW)
        session.add_all([_case("FR-0001"), _case("FR-0002")])
        session.commit()
    assert second.id == 2
    with SchoolSession(engine, school_id=2) as session:
        session.add_all([_case("FR-0001"), _case("FR-0002")])
        session.commit()
    yield engine, second.id
    engine.dispose()


@pytest.mark.issue(25, 2)
def test_2_an_update_that_forgets_its_school_changes_only_its_own_schools_rows(two_schools):
    engine, second = two_schools
    with SchoolSession(engine, school_id=1) as session:
        changed = session.execute(sa.update(Case.__table__).values(status="closed"))  # type: ignore[attr-defined]
        assert changed.rowcount == 2  # type: ignore[attr-defined]
        session.commit()
    with SchoolSession(engine, school_id=second) as session:
        statuses = session.execute(sa.text('SELECT status FROM "case"')).scalars().all()
    assert statuses == ["open", "open"]
    with SchoolSession(engine, school_id=1) as session:
        assert set(session.execute(sa.text('SELECT status FROM "case"')).scalars()) == {"closed"}


@pytest.mark.issue(25, 2)
def test_2_a_pooled_connection_remembers_nothing_of_the_last_school(two_schools):
    engine, second = two_schools
    with SchoolSession(engine, school_id=1) as session:
        first_pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        assert len(session.exec(select(Case)).all()) == 2
    with SchoolSession(engine, school_id=second) as session:
        assert session.execute(sa.text("SELECT pg_backend_pid()")).scalar() == first_pid
        assert {c.school_id for c in session.exec(select(Case)).all()} == {second}
    # The same connection with no school at all (a query outside any school's session).
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar() == first_pid
        assert connection.execute(sa.text('SELECT count(*) FROM "case"')).scalar() == 0
        assert connection.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() == 0


@pytest.mark.issue(25, 2)
def test_2_a_row_for_another_school_is_refused_even_by_hand(two_schools):
    engine, second = two_schools
    with SchoolSession(engine, school_id=1) as session:
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            session.execute(
                sa.insert(Case.__table__).values(  # type: ignore[attr-defined]
                    school_id=second, ref="FR-0009", kind="FR", status="open", team="dsl",
                    urgent=False, platform="console", reporter_id="u1", summary={},
                    details={}, flags=[], guidance=[], created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
        session.rollback()
    # Moving a row to another school is refused too.
    with (
        SchoolSession(engine, school_id=1) as session,
        pytest.raises(sa.exc.ProgrammingError, match="row-level security"),
    ):
        session.execute(sa.update(Case.__table__).values(school_id=second))  # type: ignore[attr-defined]


@pytest.mark.issue(25, 2)
def test_2_trust_wide_work_sees_every_school_and_is_audited(two_schools):
    engine, _ = two_schools
    work = UnitOfWork(engine)
    with work.trust_session("retention sweep", "dispose of records due", NOW) as session:
        assert len(session.exec(select(Case)).all()) == 4
        session.commit()
    with work.session() as session:
        [used] = session.exec(select(AuditEvent).where(AuditEvent.action == "trust_scope")).all()
    assert used.actor == "retention sweep" and used.detail == {"reason": "dispose of records due"}


@pytest.mark.issue(25, 2)
def test_2_the_start_up_line_says_whether_row_level_security_is_a_backstop(roles, two_schools):
    owner_url, _ = roles
    engine, _ = two_schools
    assert "row-level security on" in db.isolation_line(engine)
    owner = db.make_engine(owner_url)
    assert "NOT a backstop" in db.isolation_line(owner)
    owner.dispose()
