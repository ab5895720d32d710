"""Once-a-day jobs, run once a day across every instance (the retention sweep).

Every instance's scheduler asks every few minutes; the first to claim the day's run
(bot/storage/daily_runs.py) does the job, the others skip it, and once it is done nobody
runs it again that day. While it works, the holder renews its lease from a thread of its
own; if it is killed, the lease runs out (SQLite) or its advisory lock goes with its
connection (PostgreSQL), and the next instance to ask finishes the job. What the first
one did is not done again: each job is safe to re-run item by item (the retention sweep
claims each record and disposes of it once).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.kernel.work import UnitOfWork
from bot.observability import metrics
from bot.storage import daily_runs
from bot.storage.daily_runs import RETENTION, Claim

__all__ = ["RETENTION", "DailyJobs", "Ran"]

log = logging.getLogger(__name__)


class Ran(enum.Enum):
    RAN = "ran"
    TOOK_OVER = "took_over"
    HELD_ELSEWHERE = "held_elsewhere"
    DONE_ALREADY = "done_already"
    RUNNING_HERE = "running_here"  # this instance is at it still (a long sweep): not counted


class DailyJobs:
    """`holder` names this instance's claims (a random id, never a person); `lease` is how
    long a run stays ours without a renewal (renewed every third of it)."""

    def __init__(
        self,
        work: UnitOfWork,
        now: Callable[[], datetime],
        holder: str,
        lease: timedelta = timedelta(minutes=5),
        school_id: int = 1,
    ):
        self.work = work
        self.now = now
        self.holder = holder[:40]
        self.lease = lease
        self.school_id = school_id
        self._said_held: set[tuple[str, str]] = set()
        self._mine: set[str] = set()  # jobs this instance is running now
        self._mine_lock = threading.Lock()

    def run(self, job: str, period: str, work: Callable[[], int]) -> Ran:
        """Run `work` for this period unless it has run or another instance is running it.
        Its exceptions reach the caller after the run is given back for a retry."""
        with self._mine_lock:
            if job in self._mine:
                return Ran.RUNNING_HERE
            self._mine.add(job)
        try:
            return self._run(job, period, work)
        finally:
            with self._mine_lock:
                self._mine.discard(job)

    def _run(self, job: str, period: str, work: Callable[[], int]) -> Ran:
        locked = self.work.engine.dialect.name == "postgresql"
        if self._done(job, period):  # the usual answer, without taking any lock
            metrics.daily_job(job, Ran.DONE_ALREADY.value)
            return Ran.DONE_ALREADY
        with daily_runs.advisory_lock(self.work.engine, self.school_id, job) as free:
            if free:
                claim = self._claim(job, period, locked=locked)
            else:  # another instance holds the lock: running it, or just finding it done
                claim = Claim.DONE if self._done(job, period) else Claim.HELD
            if claim is Claim.DONE:
                metrics.daily_job(job, Ran.DONE_ALREADY.value)
                return Ran.DONE_ALREADY
            if claim is Claim.HELD:
                self._skip(job, period)
                return Ran.HELD_ELSEWHERE
            if claim is Claim.TAKEN_OVER:
                log.warning("daily job %s for %s: finishing a run an instance left", job, period)
            items = self._with_lease(job, period, work)
            with self.work.session() as session:
                mine = daily_runs.finish(
                    session, self.school_id, job, period,
                    holder=self.holder, now=self.now(), items=items,
                )  # fmt: skip
                session.commit()
            if not mine:
                log.warning("daily job %s for %s: another instance took it over", job, period)
            ran = Ran.TOOK_OVER if claim is Claim.TAKEN_OVER else Ran.RAN
            metrics.daily_job(job, ran.value)
            return ran

    def _done(self, job: str, period: str) -> bool:
        with self.work.session() as session:
            return daily_runs.is_done(session, self.school_id, job, period)

    def _claim(self, job: str, period: str, *, locked: bool) -> Claim:
        with self.work.session() as session:
            claim = daily_runs.claim(
                session, self.school_id, job, period,
                holder=self.holder, now=self.now(), lease=self.lease, locked=locked,
            )  # fmt: skip
            session.commit()
        return claim

    def _skip(self, job: str, period: str) -> None:
        """One line per job and day in each instance that finds another holding it."""
        metrics.daily_job(job, Ran.HELD_ELSEWHERE.value)
        if (job, period) not in self._said_held:
            self._said_held.add((job, period))
            log.info("daily job %s for %s: another instance is running it; skipped", job, period)

    def _with_lease(self, job: str, period: str, work: Callable[[], int]) -> int:
        """Run `work` while a thread renews the lease; on failure, give the run back."""
        stop = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(job, period, stop), name="schoolbot-lease", daemon=True
        )
        keeper.start()
        try:
            return work()
        except BaseException:
            metrics.daily_job(job, "failed")
            with contextlib.suppress(sa.exc.SQLAlchemyError), self.work.session() as session:
                daily_runs.give_back(
                    session, self.school_id, job, period, holder=self.holder, now=self.now()
                )
                session.commit()
            raise
        finally:
            stop.set()
            keeper.join()

    def _keep(self, job: str, period: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease.total_seconds() / 3):
            try:
                with self.work.session() as session:
                    ours = daily_runs.renew(
                        session, self.school_id, job, period,
                        holder=self.holder, now=self.now(), lease=self.lease,
                    )  # fmt: skip
                    session.commit()
            except sa.exc.SQLAlchemyError as exc:
                log.warning("daily job %s: couldn't renew its lease: %s", job, type(exc).__name__)
                continue
            if not ours:
                log.warning("daily job %s for %s: another instance took it over", job, period)
                return
