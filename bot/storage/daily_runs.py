"""Queries for once-a-day jobs: a run of job J for period D (and school) is claimed once.

The claim is a row in `daily_run`, taken by a compare-and-set, on both databases:
- no row yet: INSERT ... ON CONFLICT DO NOTHING; the instance whose insert lands holds it;
- a row still "running" whose lease has ended (its holder died): one UPDATE ... WHERE
  state = 'running' AND lease_until <= now takes it over, and only one instance's lands;
- a row "done": the job has run for that period; nobody runs it again.

On PostgreSQL a session advisory lock on (school, job) is taken first, on a connection
held for the whole run (`advisory_lock`): a second instance's `pg_try_advisory_lock`
fails at once, and when the holder's process dies its connection closes and the lock
goes with it, so the next instance takes over without waiting for the lease.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.storage.repository import insert_new, rowcount
from bot.storage.scoping import SchoolSession
from bot.storage.tables import DailyRun

RETENTION = "retention"  # the retention sweep, once a school day (bot/scheduler.py)
YEARLY_REMINDER = "yearly-reminder"  # once a year, in the reminder's own transaction
RUNNING = "running"
DONE = "done"


class Claim(enum.Enum):
    NEW = "new"  # ours: nobody had started it
    TAKEN_OVER = "taken_over"  # ours: its holder stopped (lease ended, or its lock is gone)
    HELD = "held"  # another instance is running it now
    DONE = "done"  # it has run for this period already


def _key(school_id: int, job: str, period: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        col(DailyRun.school_id) == school_id,
        col(DailyRun.job) == job,
        col(DailyRun.period) == period,
    )


def claim(
    session: SchoolSession,
    school_id: int,
    job: str,
    period: str,
    *,
    holder: str,
    now: datetime,
    lease: timedelta,
    locked: bool = False,
) -> Claim:
    """Try to hold this run for `lease`. `locked`: the caller holds the PostgreSQL
    advisory lock, so a row still "running" belongs to nobody alive, whatever its lease."""
    if insert_new(
        session,
        DailyRun,
        school_id=school_id,
        job=job,
        period=period,
        state=RUNNING,
        holder=holder,
        lease_until=now + lease,
        started_at=now,
        attempts=1,
    ):
        return Claim.NEW
    stale = sa.true() if locked else col(DailyRun.lease_until) <= now
    result = session.execute(
        sa.update(DailyRun)
        .where(*_key(school_id, job, period), col(DailyRun.state) == RUNNING, stale)
        .values(holder=holder, lease_until=now + lease, attempts=col(DailyRun.attempts) + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 1:
        return Claim.TAKEN_OVER
    return Claim.DONE if is_done(session, school_id, job, period) else Claim.HELD


def _held_by(
    holder: str, school_id: int, job: str, period: str
) -> tuple[sa.ColumnElement[bool], ...]:
    """The run, while `holder` is still the one running it."""
    return (
        *_key(school_id, job, period),
        col(DailyRun.state) == RUNNING,
        col(DailyRun.holder) == holder,
    )


def is_done(session: SchoolSession, school_id: int, job: str, period: str) -> bool:
    state = session.exec(select(DailyRun.state).where(*_key(school_id, job, period))).first()
    return state == DONE


def renew(
    session: SchoolSession,
    school_id: int,
    job: str,
    period: str,
    *,
    holder: str,
    now: datetime,
    lease: timedelta,
) -> bool:
    """Still ours? Then hold it for another lease (the job is still going)."""
    result = session.execute(
        sa.update(DailyRun)
        .where(*_held_by(holder, school_id, job, period))
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def finish(
    session: SchoolSession,
    school_id: int,
    job: str,
    period: str,
    *,
    holder: str,
    now: datetime,
    items: int,
) -> bool:
    """Mark the run done (only by its holder: one that lost it leaves it to the new one)."""
    result = session.execute(
        sa.update(DailyRun)
        .where(*_held_by(holder, school_id, job, period))
        .values(state=DONE, finished_at=now, lease_until=now, items=items)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def give_back(
    session: SchoolSession, school_id: int, job: str, period: str, *, holder: str, now: datetime
) -> None:
    """The job failed (the database went away, say): its lease ends now, so the next
    check in any instance tries again."""
    session.execute(
        sa.update(DailyRun)
        .where(*_held_by(holder, school_id, job, period))
        .values(lease_until=now)
        .execution_options(synchronize_session=False)
    )


def record_once(
    session: SchoolSession,
    school_id: int,
    job: str,
    period: str,
    *,
    holder: str,
    now: datetime,
    items: int,
) -> bool:
    """For a job done inside one transaction (the yearly reminder's messages go into the
    outbox with it): record it done, in the caller's transaction; False if it already
    was, and then the caller must not do it again. A crash before the commit undoes both."""
    return insert_new(
        session,
        DailyRun,
        school_id=school_id,
        job=job,
        period=period,
        state=DONE,
        holder=holder,
        lease_until=now,
        started_at=now,
        finished_at=now,
        attempts=1,
        items=items,
    )


def runs(session: SchoolSession, job: str | None = None) -> list[DailyRun]:
    """The school's recorded runs (of one job), oldest first: for the command line and tests."""
    query = select(DailyRun).where(DailyRun.school_id == session.school_id)
    query = query.order_by(col(DailyRun.id))
    if job is not None:
        query = query.where(DailyRun.job == job)
    return list(session.exec(query))


def lock_id(school_id: int, job: str) -> int:
    """The advisory lock's 64-bit key for (school, job): stable across processes."""
    digest = hashlib.sha256(f"schoolbot:daily:{school_id}:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def advisory_lock(engine: Engine, school_id: int, job: str) -> Iterator[bool]:
    """PostgreSQL: hold a session advisory lock on (school, job) for the block, on a
    connection of its own; yields False at once if another instance holds it. Other
    databases: yields True (the row's lease does the work)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_id(school_id, job)
    with engine.connect() as connection:
        got = bool(connection.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar())
        connection.commit()  # the lock is the session's: no transaction left open
        try:
            yield got
        finally:
            if got:
                try:
                    connection.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                    connection.commit()
                except sa.exc.SQLAlchemyError:  # the connection is gone, and the lock with it
                    connection.invalidate()
