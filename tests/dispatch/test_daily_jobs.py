"""Issue 25 point 7: once-a-day jobs run once across instances, on SQLite and PostgreSQL.

Each "instance" here is a BotService with its own engine (its own connections) in a
thread of its own, all asking at the same moment. The real-process tests, with SIGKILL,
are in tests/system/test_daily_jobs_processes.py.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from bot.dispatch import BotService
from bot.dispatch.daily_jobs import Ran
from bot.records.retention import RetentionSweep
from bot.storage import daily_runs
from bot.storage.daily_runs import RETENTION, YEARLY_REMINDER, Claim
from bot.storage.tables import DailyRun, DialogState, Disposal, Outbox, Reminder
from tests.helpers import grant, make_service

INSTANCES = 4
OLD_CHATS = 30
TODAY = "2026-11-21"
pytestmark = pytest.mark.issue(25, 7)


@pytest.fixture
def instances(database_url, clock, tmp_path):
    services = [
        make_service(database_url, "default", clock, tmp_path / "evidence")
        for _ in range(INSTANCES)
    ]
    yield services
    for service in services:
        service.engine.dispose()


def old_chats(service: BotService, count: int) -> None:
    """Conversations nobody finished, long past the pack's 30 days: the sweep's to dispose of."""
    long_ago = service.kernel.now() - timedelta(days=400)
    with service.kernel.session() as session:
        for n in range(count):
            session.add(
                DialogState(
                    platform="console", user_id=f"u{n}", dialog="old_chat", updated_at=long_ago
                )
            )
        session.commit()


def all_at_once(services: list[BotService], job) -> list:
    """Each instance calls `job(service)` from its own thread, released together."""
    start = threading.Barrier(len(services))
    results: list = [None] * len(services)

    def one(n: int) -> None:
        start.wait()
        results[n] = job(services[n])

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(services))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def recorded(service: BotService, job: str) -> list[DailyRun]:
    with service.kernel.session() as session:
        return daily_runs.runs(session, job)


def test_four_instances_run_the_retention_sweep_once_a_day(instances, clock):
    old_chats(instances[0], OLD_CHATS)
    swept: collections.Counter[int] = collections.Counter()

    def retention(service: BotService) -> Ran:
        def sweep() -> int:
            swept[id(service)] += 1
            return RetentionSweep(service.kernel).sweep()

        day = service.kernel.local_now().date().isoformat()
        return service.daily_jobs.run(RETENTION, day, sweep)

    first = all_at_once(instances, retention)
    assert first.count(Ran.RAN) == 1
    assert set(first) <= {Ran.RAN, Ran.HELD_ELSEWHERE, Ran.DONE_ALREADY}
    assert all_at_once(instances, retention) == [Ran.DONE_ALREADY] * INSTANCES  # later that day
    clock.advance(days=1)
    old_chats(instances[1], 5)  # a new day's work
    assert all_at_once(instances, retention).count(Ran.RAN) == 1

    assert sum(swept.values()) == 2  # once a day, whichever instance
    runs = recorded(instances[0], RETENTION)
    assert [(r.period, r.state, r.attempts, r.items) for r in runs] == [
        (TODAY, "done", 1, OLD_CHATS),
        ("2026-11-22", "done", 1, 5),
    ]
    assert all(r.school_id == 1 and r.finished_at is not None for r in runs)
    with instances[0].kernel.session() as session:
        disposals = session.exec(select(Disposal.record)).all()
    assert len(disposals) == OLD_CHATS + 5


def test_a_run_whose_instance_died_is_finished_by_another(instances, clock):
    """The dead instance claimed the day and stopped: no renewals, no finish. Another
    instance waits for its lease (SQLite; on PostgreSQL its lock died with it) and then
    finishes the job, without redoing what the first had done."""
    old_chats(instances[0], OLD_CHATS)
    dead, alive = instances[0], instances[1]
    dead.daily_jobs.lease = alive.daily_jobs.lease = timedelta(minutes=5)
    postgres = dead.engine.dialect.name == "postgresql"
    # The first instance takes the day (its advisory lock too, on PostgreSQL) and disposes
    # of some records, then dies.
    its_connection = contextlib.ExitStack()
    assert its_connection.enter_context(daily_runs.advisory_lock(dead.engine, 1, RETENTION))
    with dead.kernel.session() as session:
        assert daily_runs.claim(
            session, 1, RETENTION, TODAY, holder="dead", now=clock(), lease=timedelta(minutes=5)
        ) is Claim.NEW  # fmt: skip
        session.commit()
    sweep = RetentionSweep(dead.kernel)
    for item in sweep.due()[:10]:
        sweep._dispose(item)

    assert alive.daily_jobs.run(RETENTION, TODAY, lambda: 0) is Ran.HELD_ELSEWHERE
    if postgres:
        # The process dies: PostgreSQL closes its session and the lock goes with it.
        with alive.engine.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database d "
                    "ON d.oid = l.database WHERE l.locktype = 'advisory' "
                    "AND d.datname = current_database() AND l.pid <> pg_backend_pid()"
                )
            )
    else:
        clock.advance(minutes=6)  # its lease ends
    finished = alive.daily_jobs.run(RETENTION, TODAY, lambda: RetentionSweep(alive.kernel).sweep())
    assert finished is Ran.TOOK_OVER
    [run] = recorded(alive, RETENTION)
    assert (run.state, run.attempts, run.items, run.holder) == (
        "done", 2, OLD_CHATS - 10, alive.outbox.instance[:40],
    )  # fmt: skip
    with alive.kernel.session() as session:
        disposals = collections.Counter(session.exec(select(Disposal.record)).all())
        left = session.exec(select(DialogState)).all()
    assert sum(disposals.values()) == OLD_CHATS and left == []
    assert alive.daily_jobs.run(RETENTION, TODAY, lambda: 0) is Ran.DONE_ALREADY
    its_connection.close()  # (its unlock finds the connection gone, as a dead process's would)


def test_a_failed_run_is_given_back_and_retried(instances, clock):
    calls = []

    def broken() -> int:
        calls.append(1)
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("the database went away"))

    with pytest.raises(sa.exc.OperationalError):
        instances[0].daily_jobs.run(RETENTION, TODAY, broken)
    assert instances[1].daily_jobs.run(RETENTION, TODAY, lambda: 3) is Ran.TOOK_OVER
    [run] = recorded(instances[0], RETENTION)
    assert (run.state, run.attempts, run.items, len(calls)) == ("done", 2, 3, 1)


STAFF = 40


def test_the_yearly_reminder_reaches_each_person_once_from_four_instances(instances, clock):
    first = instances[0]
    for n in range(STAFF):
        grant(first, f"t{n}", "slt")
    first.prepare_schedules()
    clock.current = datetime(2027, 9, 1, 7, 0, tzinfo=UTC)  # its day (default pack: September)

    def sweep_until_quiet(service: BotService) -> int:
        total = 0
        while done := service.sweep():
            total += done
        return total

    all_at_once(instances, sweep_until_quiet)
    all_at_once(instances, sweep_until_quiet)
    with first.kernel.session() as session:
        # A reminder row set back to pending (a restore, a hand edit) sends nothing again.
        again = sa.update(Reminder).where(col(Reminder.key) == "annual:2027")
        session.execute(again.values(status="pending"))
        session.commit()
    all_at_once(instances, sweep_until_quiet)

    with first.kernel.session() as session:
        sent = [
            row.target
            for row in session.exec(select(Outbox))
            if row.message.get("text", "").startswith("Yearly reminder")
        ]
        outcomes = session.exec(select(Reminder.outcome).where(Reminder.key == "annual:2027")).all()
    assert collections.Counter(sent) == {f"t{n}": 1 for n in range(STAFF)}
    assert outcomes == ["already sent for 2027"]
    [run] = recorded(first, YEARLY_REMINDER)
    assert (run.period, run.state, run.items, run.school_id) == ("2027", "done", STAFF, 1)


def test_a_check_while_this_instance_is_still_sweeping_returns_at_once(instances):
    """A long sweep outlasts the scheduler's next check: that check leaves it be."""
    service, other = instances[0], instances[1]
    started, finish = threading.Event(), threading.Event()
    results: list[Ran] = []

    def long_sweep() -> int:
        started.set()
        finish.wait(timeout=30)
        return 1

    first = threading.Thread(
        target=lambda: results.append(service.daily_jobs.run(RETENTION, TODAY, long_sweep))
    )
    first.start()
    started.wait(timeout=30)
    assert service.daily_jobs.run(RETENTION, TODAY, lambda: 0) is Ran.RUNNING_HERE
    assert other.daily_jobs.run(RETENTION, TODAY, lambda: 0) is Ran.HELD_ELSEWHERE
    finish.set()
    first.join()
    assert results == [Ran.RAN]
