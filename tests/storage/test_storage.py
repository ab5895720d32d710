"""Storage on SQLite and PostgreSQL: migrations match the models, times, counters, state."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import bot.storage.tables  # noqa: F401
from bot.domain.turns import StaffMessage
from bot.storage import db
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import AuditEvent, Case
from tests.fakes.edge_servers import MARKER


def _school_one(engine: sa.Engine) -> SchoolSession:
    return SchoolSession(engine, school_id=1)


def test_migrations_match_the_models(database_url):
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == [], "tables.py changed without a migration: run alembic revision --autogenerate"


def test_upgrade_is_idempotent(database_url):
    db.upgrade(database_url)  # already at head: a second run must be a no-op
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert (
        version == ScriptDirectory.from_config(db.alembic_config(database_url)).get_current_head()
    )


def test_times_round_trip_as_aware_utc(database_url):
    engine = db.make_engine(database_url)
    bst = timezone(timedelta(hours=1))
    moment = datetime(2026, 6, 1, 9, 30, tzinfo=bst)
    with _school_one(engine) as session:
        repo.audit(session, moment, "t", "x", "s")
        session.commit()
    with _school_one(engine) as session:
        event = session.exec(sa.select(AuditEvent)).scalars().one()  # type: ignore[call-overload]
    engine.dispose()
    assert event.at == moment and event.at.tzinfo is not None
    assert event.at.utcoffset() == timedelta(0)


def test_case_numbers_are_unique_under_concurrency(database_url):
    engine = (
        db.make_engine(database_url, pool_size=8)
        if "postgresql" in database_url
        else (db.make_engine(database_url, lock_timeout=30))
    )
    numbers: list[int] = []
    lock = threading.Lock()

    def take(count: int) -> None:
        for _ in range(count):
            with _school_one(engine) as session:
                number = repo.next_number(session, "FR")
                session.commit()
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=take, args=(10,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert sorted(numbers) == list(range(1, 41))


def test_dialog_state_round_trip_and_clear(database_url):
    engine = db.make_engine(database_url)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    state = {
        "dialog": "friend_request",
        "step": "family",
        "answers": {"sender": "parent"},
        "history": [["sender", None]],
        "item": None,
    }
    with _school_one(engine) as session:
        repo.save_dialog(session, "slack", "U1", state, now)
        session.commit()
    with _school_one(engine) as session:
        assert repo.get_dialog(session, "slack", "U1").state == state
        repo.clear_dialog(session, "slack", "U1")
        session.commit()
    with _school_one(engine) as session:
        assert repo.get_dialog(session, "slack", "U1") is None
    engine.dispose()


def test_two_turns_on_the_same_state_cannot_both_save(database_url):
    """A double click: both turns read version 1; the second to save must lose, not overwrite."""
    engine = db.make_engine(database_url)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    state = {"dialog": "friend_request", "step": "sender", "answers": {}}
    with _school_one(engine) as session:
        repo.get_dialog(session, "slack", "U1")
        repo.save_dialog(session, "slack", "U1", state, now)
        session.commit()
    first, second = _school_one(engine), _school_one(engine)
    repo.get_dialog(first, "slack", "U1")
    repo.get_dialog(second, "slack", "U1")
    repo.save_dialog(first, "slack", "U1", {**state, "step": "family"}, now)
    first.commit()
    with pytest.raises(repo.TurnConflict):
        repo.save_dialog(second, "slack", "U1", {**state, "step": "platform"}, now)
    second.rollback()
    # Clearing (a finished or cancelled conversation) is checked the same way.
    third = _school_one(engine)
    repo.get_dialog(third, "slack", "U1")
    repo.get_dialog(second, "slack", "U1")
    repo.clear_dialog(second, "slack", "U1")
    second.commit()
    with pytest.raises(repo.TurnConflict):
        repo.save_dialog(third, "slack", "U1", state, now)
    third.rollback()
    # Two first messages at once: one creates the conversation, the other loses.
    a, b = _school_one(engine), _school_one(engine)
    repo.get_dialog(a, "slack", "U2")
    repo.get_dialog(b, "slack", "U2")
    repo.save_dialog(a, "slack", "U2", state, now)
    a.commit()
    with pytest.raises(repo.TurnConflict):
        repo.save_dialog(b, "slack", "U2", state, now)
    for s in (first, second, third, a, b):
        s.close()
    with _school_one(engine) as session:
        assert repo.get_dialog(session, "slack", "U1") is None
        assert repo.get_dialog(session, "slack", "U2").version == 1
    engine.dispose()


def test_duplicate_deliveries_are_recognised(database_url):
    engine = db.make_engine(database_url)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    with _school_one(engine) as session:
        assert repo.first_request(session, "slack:Ev1", now) is True
        session.commit()
    with _school_one(engine) as session:
        assert repo.first_request(session, "slack:Ev1", now) is False
    engine.dispose()


def test_case_transition_is_compare_and_set(database_url):
    engine = db.make_engine(database_url)
    now = datetime(2026, 11, 21, tzinfo=UTC)
    with _school_one(engine) as session:
        case = Case(
            ref="FR-0001",
            kind="FR",
            status="new",
            team="dsl",
            platform="console",
            reporter_id="a",
            created_at=now,
            updated_at=now,
        )
        session.add(case)
        session.commit()
        first = repo.transition_case(session, case.id, ("new",), {"status": "acknowledged"})
        second = repo.transition_case(session, case.id, ("new",), {"status": "acknowledged"})
        session.commit()
    engine.dispose()
    assert (first, second) == (True, False)


def test_old_delivery_ids_are_forgotten_and_recent_ones_still_catch_repeats(service_factory, clock):
    service = service_factory()
    assert service.receive(StaffMessage("slack", "U1", "hello", request_id="slack:EvOld")).replies
    clock.advance(days=8)
    assert service.receive(
        StaffMessage("slack", "U1", "my cases", request_id="slack:EvNew")
    ).replies
    assert service.intake.forget_old_requests() == 1
    assert (
        service.receive(StaffMessage("slack", "U1", "my cases", request_id="slack:EvNew")).replies
        == []
    )
    with service.kernel.session() as session:
        assert repo.first_request(session, "slack:EvOld", clock()) is True  # gone


def test_requests_stranded_for_a_week_are_reported_and_removed(service_factory, clock, caplog):
    from bot.storage import intake as accepted

    service = service_factory()
    row = {
        "platform": "slack",
        "person": "U1",
        "kind": "message",
        "payload": {"text": "Jane Pupil"},
    }
    with service.kernel.session() as session:
        accepted.record(
            session, [{**row, "instance": "gone", "accepted_at": clock(), "renewed_at": clock()}]
        )
        session.commit()
    clock.advance(days=6)
    service.intake.forget_old_requests()
    with service.kernel.session() as session:
        assert session.execute(sa.text("SELECT count(*) FROM accepted_request")).scalar() == 1
    clock.advance(days=2)
    service.intake.forget_old_requests()
    with service.kernel.session() as session:
        assert session.execute(sa.text("SELECT count(*) FROM accepted_request")).scalar() == 0
    assert "1 chat requests accepted over a week ago were never handled" in caplog.text
    assert "Jane" not in caplog.text  # not what they wrote


@pytest.mark.issue(11, 8)
def test_database_errors_never_quote_the_parameters(sqlite_url):
    engine = db.make_engine(sqlite_url)
    with pytest.raises(sa.exc.OperationalError) as raised, engine.connect() as connection:
        connection.execute(sa.text("INSERT INTO no_such_table VALUES (:x)"), {"x": MARKER})
    assert MARKER not in str(raised.value)
