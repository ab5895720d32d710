"""The unit of work: one database transaction per call, on the database's own threads.

If the database is down or locked, the person is told to try again and nothing they gave
earlier is lost, because the previous turn's state was already committed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.domain.schools import FIRST_SCHOOL
from bot.storage.scoping import SchoolSession
from bot.storage.tables import AuditEvent, SchoolRecord

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

DB_DOWN = (
    "Sorry, I can't reach the school's records right now, so I haven't saved that. "
    "Everything you told me before is safe. Please send it again in a minute."
)
BUSY = "Sorry, I was still saving your last answer. Please send that again."
OUTAGE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def db_guard(fallback: Callable[[], Any]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn a database outage into a kind reply instead of a crash.

    `fallback` answers in the function's place, so it returns what the function would; it
    is typed Any because a lambda like `lambda: []` says nothing of its items."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except OUTAGE as exc:
                log.error("database unavailable in %s: %s", fn.__name__, type(exc).__name__)
                return fallback()

        return inner

    return wrap


class UnitOfWork:
    """Sessions for one school, and the threads database calls run on.

    Every session it opens is that school's (storage.scoping): a school's service has its
    own unit of work, so a feature never chooses the school, and can't choose another."""

    def __init__(self, engine: Engine, school_id: int = FIRST_SCHOOL):
        self.engine = engine
        self.school_id = school_id
        sqlite = engine.dialect.name == "sqlite"
        self._turns: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if sqlite else contextlib.nullcontext()
        )
        # Database work has threads of its own (see `run`). On SQLite work takes turns
        # anyway (one writer), so two are enough, and fewer threads contending for the GIL
        # keep the event loop's acks quick under load.
        self.threads = concurrent.futures.ThreadPoolExecutor(
            2 if sqlite else None, thread_name_prefix="schoolbot-db"
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[SchoolSession]:
        """One unit of work. On SQLite, units of work in this process take turns.

        SQLite has one writer at a time, and a writer that finds it busy sleeps and polls
        (1, 2, 5 ... 100 ms). Queueing on a lock in Python hands over at once instead, which
        is several times faster under load and keeps the busy timeout for other processes.
        """
        with (
            self._turns,
            SchoolSession(self.engine, school_id=self.school_id, expire_on_commit=False) as session,
        ):
            yield session

    @contextlib.contextmanager
    def trust_session(self, actor: str, reason: str, now: datetime) -> Iterator[SchoolSession]:
        """A session that sees every school, for trust-wide jobs only. Its use is written
        to the audit trail in the same transaction, so no trust-wide work goes unrecorded.
        In a trust of one it is simply the school's own session (nothing more to see)."""
        with self.session() as probe:
            schools = probe.exec(select(sa.func.count()).select_from(SchoolRecord)).one()
        if schools <= 1:
            with self.session() as session:
                yield session
            return
        with (
            self._turns,
            SchoolSession(
                self.engine, school_id=self.school_id, trust=True, expire_on_commit=False
            ) as session,
        ):
            session.add(
                AuditEvent(
                    at=now,
                    actor=actor,
                    action="trust_scope",
                    subject="trust",
                    detail={"reason": reason},
                )
            )
            yield session

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Call `fn` (a database call) on the database's own threads, like asyncio.to_thread.

        Not the event loop's default threads: libraries that block on the network use
        those (botbuilder sends every Teams reply from one), so a slow Teams connector
        would otherwise hold up every conversation turn, Slack's included."""
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.threads, call)
