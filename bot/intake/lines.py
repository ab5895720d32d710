"""Work a chat platform has already had its answer for, a few at a time, in order.

Slack gives an app 3 seconds to acknowledge a request. If every request's work ran at once,
a burst of work would crowd the event loop and delay every later ack behind it; here at most
`workers` pieces of work run at a time and the rest wait, so acks stay prompt.

Each person has their own line: their messages and clicks are handled one after another,
in the order they arrived, while other people's go ahead (one person's slow download holds
up nobody else). When `limit` requests are waiting, `submit` waits: the ack is late
(back-pressure, and Slack retries events it had no answer for) rather than work dropped.

With a journal, each request is recorded before it is acknowledged (see
intake/journal.py) and deleted as soon as its work is done; what a crashed instance
left behind is run again here. Work that fails is tried again twice, then reported.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NamedTuple

from bot.domain.turns import TurnResult
from bot.intake.journal import IntakeJournal, JournalUnavailable, Pending
from bot.observability import logs

log = logging.getLogger(__name__)
Payload = dict[str, Any]
# Slack resends an event it had no answer for within 3 s: past this, answer anyway (the
# record is still written, and the work waits for it), rather than have it sent twice.
ACK_WAIT_SECONDS = 2.0
ATTEMPTS = 3  # a request whose work fails is tried this many times, then reported


class IntakeRecord(NamedTuple):
    """A request's record: its id (None if it could not be written) and when it was
    accepted. For a rerun after a crash (or a retry), `rerun_of` is that time too, and
    `kept` holds its turn's result if that turn was done (then only its replies are left
    to send)."""

    id: int | None = None
    kept: TurnResult | None = None
    rerun_of: datetime | None = None
    at: datetime | None = None

    @property
    def tag(self) -> str | None:
        """A name for this request that no other will have (SQLite reuses freed ids), put
        on its replies so a rerun can tell which of them were already posted."""
        if self.id is None or self.at is None:
            return None
        return f"{self.id}-{self.at:%Y%m%d%H%M%S%f}"

    @classmethod
    def of(cls, row: Any) -> IntakeRecord:
        """From a journal row read back (a rerun or a retry)."""
        return cls(row.id, TurnResult.from_stored(row.replies), row.accepted_at, row.accepted_at)


Handler = Callable[[Payload, IntakeRecord], Awaitable[None]]


class Job(NamedTuple):
    person: str
    kind: str
    payload: Payload
    request: IntakeRecord
    recorded: Pending | None = None  # the record, while it is being written
    attempt: int = 1
    tag: logs.RequestTag | None = None  # the request's log tag (its id and platform)


class IntakeQueue:
    def __init__(
        self,
        name: str,
        workers: int = 8,
        limit: int = 50_000,
        journal: IntakeJournal | None = None,
        retry_after: float = 2.0,
    ):
        self.name = name
        self.retry_after = retry_after  # seconds before a failed request is tried again
        self.journal = journal
        self.limit = limit
        self._handlers: dict[str, Handler] = {}
        self._lines: dict[str, collections.deque[Job]] = {}  # waiting work, per person
        self._runners: dict[str, asyncio.Task[None]] = {}  # one per person with work
        self._slots = asyncio.Semaphore(workers)
        self._room = asyncio.Event()  # set while fewer than `limit` requests wait
        self._room.set()
        self._started = False
        self._recovery: asyncio.Task[None] | None = None
        self._urgent: set[asyncio.Task[bool]] = set()
        self._retries: set[asyncio.Task[None]] = set()

    def handler(self, kind: str, fn: Handler) -> None:
        """What runs a request of this kind: payloads are plain JSON, so a rerun after a
        crash, read back from the database, goes to the same function."""
        self._handlers[kind] = fn

    @property
    def pending(self) -> int:
        return sum(len(line) for line in self._lines.values())

    async def submit(self, person: str, kind: str, payload: Payload) -> None:
        """Queue the request behind this person's earlier work (waiting while `limit`
        requests wait) once it is recorded. Returns when it may be acknowledged.

        With the journal's spool, recorded means written to a local file that survives a
        kill (microseconds); its database row follows within milliseconds, and the work
        waits for that. Without one, the ack waits for the row's commit.
        """
        if not self._started:  # not started (a test driving the handler directly): run it now
            await self._run(Job(person, kind, payload, IntakeRecord()))
            return
        while not self._room.is_set():
            await self._room.wait()
        if self.journal is None:
            self._enqueue(Job(person, kind, payload, IntakeRecord()))
            return
        try:
            pending = self.journal.record(person, kind, payload)
        except ValueError as problem:  # nobody to answer, or nothing that can be stored
            log.warning("%s: ignored a malformed %s request: %s", self.name, kind, problem)
            return
        if self.journal.spool is None:
            with contextlib.suppress(TimeoutError, JournalUnavailable):  # _run says which
                async with asyncio.timeout(ACK_WAIT_SECONDS):
                    await asyncio.shield(pending.future)
        self._enqueue(Job(person, kind, payload, IntakeRecord(), pending))

    def urgent(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Start `fn(*args)` at once, outside the lines and unrecorded: for work with its
        own short deadline, such as opening a modal while Slack's trigger id is valid."""
        task = asyncio.create_task(self._call(fn, args))
        self._urgent.add(task)
        task.add_done_callback(self._urgent.discard)

    async def start(self, recover_every: float | None = None) -> None:
        """Start taking work. With a journal: first rerun what a stopped instance left (all
        of it on SQLite, where no other instance can be alive; after the lease otherwise),
        then look again every `recover_every` seconds (None: a quarter of the lease)."""
        self._started = True
        if self.journal is None:
            return
        await self.journal.start()
        if self.journal.kernel.work.engine.dialect.name == "sqlite":
            with contextlib.suppress(Exception):  # the database is down: the loop retries
                while await self.recover_once(everything=True):
                    pass
        every = recover_every or self.journal.renew_every
        self._recovery = asyncio.create_task(self._recover(every), name=f"{self.name}-recover")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish what was acknowledged (for up to `timeout` seconds), then stop."""
        for task in [self._recovery, *self._retries]:  # retries run again at the next start
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        waiting: list[asyncio.Task[Any]] = [*self._runners.values(), *self._urgent]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if left := self.pending:
            then = "they run again at the next start" if self.journal else "they are lost"
            log.error("%s stopped with %d requests unhandled; %s", self.name, left, then)
        self._lines.clear()
        self._started = False
        if self.journal is not None:
            await self.journal.stop()

    async def recover_once(self, *, everything: bool = False) -> int:
        """Queue requests that a stopped instance recorded but never finished."""
        assert self.journal is not None
        rows = await self.journal.orphans(everything=everything)
        for row in rows:
            log.info("%s: rerunning a %s request left by a stopped instance", self.name, row.kind)
            self._enqueue(Job(row.person, row.kind, row.payload, IntakeRecord.of(row)))
        return len(rows)

    def _enqueue(self, job: Job) -> None:
        if job.tag is None:  # the request's own tag; a rerun after a crash gets a new one
            job = job._replace(tag=logs.current() or logs.new_tag(self.name))
        person = job.person
        self._lines.setdefault(person, collections.deque()).append(job)
        if self.pending >= self.limit:
            self._room.clear()
        if person not in self._runners:
            task = asyncio.create_task(self._run_line(person), name=f"{self.name}-line")
            self._runners[person] = task

    async def _run_line(self, person: str) -> None:
        """One person's work, one request after another, each in one of the shared slots."""
        line = self._lines.get(person)
        try:
            while line:
                async with self._slots:
                    job = line.popleft()
                    if self.pending < self.limit:
                        self._room.set()
                    await self._run(job)
        finally:
            self._runners.pop(person, None)
            if not line:
                self._lines.pop(person, None)

    async def _recover(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                while await self.recover_once():
                    pass
            except Exception as exc:
                log.error(
                    "%s: looking for unfinished requests failed: %s", self.name, type(exc).__name__
                )

    async def _run(self, job: Job) -> None:
        token = logs.bind(job.tag)  # its log lines carry its request id, wherever they run
        try:
            await self._run_tagged(job)
        finally:
            logs.reset(token)

    async def _run_tagged(self, job: Job) -> None:
        request = job.request
        unrecorded = None
        if job.recorded is not None:  # its turn keeps its replies in that record
            try:
                written = await job.recorded.future
                request = IntakeRecord(written.id, at=written.at)
            except JournalUnavailable:  # still do it: the handler tells them if it can't
                log.warning("%s: request not recorded (database unavailable)", self.name)
                unrecorded = job.recorded.token
        handler = self._handlers.get(job.kind)
        if handler is None:
            log.error("%s: no handler for %r requests", self.name, job.kind)
            ok = False
        else:
            ok = await self._call(handler, (job.payload, request))
        if unrecorded is not None and self.journal is not None:
            self.journal.settle(unrecorded)  # done without a record: the spool can forget it
        if request.id is None or self.journal is None:
            return
        if ok or job.attempt >= ATTEMPTS or handler is None:
            if not ok:
                log.error(
                    "%s: gave up on a %s request after %d attempts; the person may not have "
                    "had an answer (see the errors above)",
                    self.name,
                    job.kind,
                    job.attempt,
                )
            self.journal.done(request.id)
            return
        task = asyncio.create_task(self._retry(job, request.id), name=f"{self.name}-retry")
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _retry(self, job: Job, request_id: int) -> None:
        """Try a failed request again, as its record now stands (its turn may be done)."""
        assert self.journal is not None
        wait = self.retry_after * job.attempt
        while True:  # until the database answers: the row is ours, nobody else runs it
            await asyncio.sleep(wait)
            try:
                row = await self.journal.reread(request_id)
                break
            except Exception as exc:
                log.error("%s: can't retry a request yet: %s", self.name, type(exc).__name__)
                wait = min(max(wait * 2, 1.0), 60.0)
        if row is not None:
            log.info(
                "%s: trying a %s request again (attempt %d)", self.name, job.kind, job.attempt + 1
            )
            self._enqueue(
                job._replace(request=IntakeRecord.of(row), recorded=None, attempt=job.attempt + 1)
            )

    async def _call(self, fn: Callable[..., Awaitable[None]], args: tuple[Any, ...]) -> bool:
        try:
            await fn(*args)
            return True
        except Exception as exc:
            # Where it failed, not the message: an exception's text can quote what staff wrote.
            frames = traceback.extract_tb(exc.__traceback__)[-3:]
            where = " <- ".join(f"{f.filename}:{f.lineno} {f.name}" for f in reversed(frames))
            name = getattr(fn, "__name__", "work")
            log.error("%s: %s failed: %s at %s", self.name, name, type(exc).__name__, where)
            return False
