"""Issue 25 point 7: once-a-day jobs run exactly once across real `schoolbot run`
processes, even when the one doing the job is killed with SIGKILL half-way.

- The retention sweep (SQLite and PostgreSQL): the first instance starts the day's sweep
  and is killed while disposing of old conversations; two more instances start, one
  finishes the job (after the lease on SQLite; at once on PostgreSQL, whose advisory lock
  died with the killed process's connection), and every record is disposed of once.
- The yearly reminder (PostgreSQL and SQLite) to many staff through the outbox and a fake
  Slack: the busiest of three instances is killed while sending; each person gets
  exactly one reminder, and the year is recorded once.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.storage import db
from bot.storage.tables import DialogState
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack
from tests.helpers import FakeClock, free_port, grant, make_service

pytestmark = pytest.mark.issue(25, 7)
OLD_CHATS = 600
STAFF = 15


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One database for every process: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    yield request.getfixturevalue("pg_url")


def start(n: int, url: str, tmp_path: Path, **more: str) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))},
        "DATABASE_URL": url,
        "SCHOOLBOT_POLICY": "default",
        "SCHOOLBOT_DATA_DIR": str(tmp_path / f"bot{n}"),
        "SCHOOLBOT_PORT": str(free_port()),
        "SCHOOLBOT_TICK_SECONDS": "0.3",  # the daily jobs are asked for every 3 s
        "SCHOOLBOT_DAILY_LEASE_SECONDS": "2",
        "SCHOOLBOT_LOG_LEVEL": "INFO",
        **more,
    }
    log = (tmp_path / f"bot{n}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar() or 0)


async def until(check, what: str, tries: int = 1200) -> None:
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.05)  # real processes at work: nothing to inject
    pytest.fail(f"never happened: {what}")


async def test_a_killed_instances_retention_sweep_is_finished_once_by_another(shared_url, tmp_path):
    db.upgrade(shared_url)
    seeder = make_service(shared_url, "default", FakeClock(datetime.now(UTC)), tmp_path / "ev")
    long_ago = datetime.now(UTC) - timedelta(days=400)
    with seeder.kernel.session() as session:
        session.add_all(
            DialogState(
                platform="console", user_id=f"someone-{n}", dialog="old_chat", updated_at=long_ago
            )
            for n in range(OLD_CHATS)
        )
        session.commit()
    seeder.engine.dispose()
    engine = db.make_engine(shared_url)
    disposed = "SELECT count(*) FROM disposal"
    running = "SELECT count(*) FROM daily_run WHERE job = 'retention' AND state = 'running'"
    processes = [start(1, shared_url, tmp_path)]
    try:
        await until(
            lambda: count(engine, running) == 1 and count(engine, disposed) >= 20,
            "the first instance's sweep under way",
        )
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait(timeout=10)
        before = count(engine, disposed)
        assert before < OLD_CHATS, "the sweep finished before the kill: seed more records"

        processes += [start(n, shared_url, tmp_path) for n in (2, 3)]
        await until(
            lambda: count(engine, "SELECT count(*) FROM daily_run WHERE state = 'done'") == 1,
            "the day's sweep finished",
        )
        # Every old conversation disposed of, each with one line in the disposal log.
        assert count(engine, "SELECT count(*) FROM dialog_state") == 0
        assert count(engine, disposed) == OLD_CHATS
        with engine.connect() as connection:
            runs = connection.execute(
                sa.text("SELECT job, period, state, attempts, items FROM daily_run")
            ).all()
        today = datetime.now(seeder.kernel.clock.zone).date().isoformat()
        assert [tuple(r) for r in runs] == [("retention", today, "done", 2, OLD_CHATS - before)]
    finally:
        stop(processes)
        engine.dispose()
    logs = [(tmp_path / f"bot{n}.log").read_text() for n in (2, 3)]
    assert sum("finishing a run an instance left" in log for log in logs) == 1
    assert not any("someone-" in log or "old_chat" in log for log in logs)  # no names
    # One "skipped" line a day per instance at most: on SQLite both survivors may find the
    # killed instance's lease still running before one of them takes over.
    assert all(log.count("another instance is running it; skipped") <= 1 for log in logs)


async def test_the_yearly_reminder_reaches_each_person_once_when_a_sender_is_killed(
    shared_url, tmp_path
):
    db.upgrade(shared_url)
    seeder = make_service(shared_url, "default", FakeClock(datetime.now(UTC)), tmp_path / "ev")
    staff = [f"U{n:03d}" for n in range(STAFF)]
    for user in staff:
        grant(seeder, user, "slt", platform="slack")
    with seeder.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO reminder (key, kind, due_at, status) "
                "VALUES ('annual:2026', 'annual', :due, 'pending')"
            ),
            {"due": (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None)},
        )
    seeder.engine.dispose()
    fake = await FakeSlack(delay=0.15).start()
    slack = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "not-used-here",
        "SLACK_APP_TOKEN": "",
        "SCHOOLBOT_OUTBOX_LEASE_SECONDS": "3",
    }
    processes = [
        start(
            n, shared_url, tmp_path, SLACK_API_URL=str(fake.server.make_url(f"/p{n}/api/")), **slack
        )  # type: ignore[union-attr]
        for n in (1, 2, 3)
    ]
    engine = db.make_engine(shared_url)

    def reminders() -> list:
        return [c for c in fake.called("chat.postMessage") if "Yearly reminder" in c.args["text"]]

    try:
        await until(lambda: len(reminders()) >= 4, "the first reminders posted")
        busiest = collections.Counter(c.instance for c in reminders()).most_common(1)[0][0]
        victim = processes[int(busiest[1:]) - 1]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        await until(
            lambda: count(engine, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0,
            "every reminder sent",
        )
        posts = reminders()
        assert collections.Counter(c.args["channel"] for c in posts) == {u: 1 for u in staff}
        assert {c.instance for c in posts} - {busiest}  # the survivors sent the rest
        with engine.connect() as connection:
            runs = connection.execute(
                sa.text("SELECT job, period, state, items FROM daily_run WHERE job <> 'retention'")
            ).all()
        assert [tuple(r) for r in runs] == [("yearly-reminder", "2026", "done", STAFF)]
        assert count(engine, "SELECT count(*) FROM outbox") == STAFF
    finally:
        stop(processes)
        engine.dispose()
        await fake.close()
