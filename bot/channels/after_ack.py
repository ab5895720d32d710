"""Work a chat platform has already had its answer for, run by a few workers in order.

Slack gives an app 3 seconds to acknowledge a request. If every request's work ran as its
own task, a burst of work would crowd the event loop and delay every later ack behind it;
here the work waits in short queues and a fixed number of workers take it, so an ack is
never behind more than a few pieces of work.

Each person's requests go to the same worker, so their messages and clicks are handled in
the order they arrived. When a worker's queue is full, `submit` waits: the ack is late
(back-pressure, and Slack retries events it had no answer for) rather than work dropped.

With a journal, each request is written to the database as it is acknowledged and
deleted when its work is done; what a crashed instance left behind is run again here.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from bot.services.journal import JournalUnavailable, RequestJournal

log = logging.getLogger(__name__)
Payload = dict[str, Any]


class Accepted(NamedTuple):
    """A request's record: its id (None if it could not be written), and the replies its
    turn produced if that turn was done before a crash (then only they are left to send)."""

    id: int | None = None
    replies: list[dict[str, Any]] | None = None


Handler = Callable[[Payload, Accepted], Awaitable[None]]


class Job(NamedTuple):
    kind: str
    payload: Payload
    request: Accepted
    recorded: asyncio.Future[int] | None = None  # the record's id, once it is written


class AfterAck:
    def __init__(
        self,
        name: str,
        workers: int = 8,
        queue_limit: int = 10_000,
        journal: RequestJournal | None = None,
    ):
        self.name = name
        self.journal = journal
        self._handlers: dict[str, Handler] = {}
        self._queues: list[asyncio.Queue[Job]] = [
            asyncio.Queue(maxsize=queue_limit) for _ in range(workers)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self._urgent: set[asyncio.Task[None]] = set()

    def handler(self, kind: str, fn: Handler) -> None:
        """What runs a request of this kind: payloads are plain JSON, so a rerun after a
        crash, read back from the database, goes to the same function."""
        self._handlers[kind] = fn

    @property
    def pending(self) -> int:
        return sum(q.qsize() for q in self._queues)

    async def submit(self, person: str, kind: str, payload: Payload) -> None:
        """Queue the request behind this person's earlier work (waiting if that queue is
        full) and have it recorded. Returns when it may be acknowledged.

        The record is written with the next batch, a few milliseconds after the ack rather
        than before it: waiting for it would put every ack behind the conversation turns
        that hold the database. A crash within those milliseconds is the one loss left.
        """
        if not self._tasks:  # not started (a test driving the handler directly): run it now
            await self._run(Job(kind, payload, Accepted()))
            return
        recorded = self.journal.record(person, kind, payload) if self.journal else None
        await self._queue_for(person).put(Job(kind, payload, Accepted(), recorded))

    def urgent(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Start `fn(*args)` at once, outside the queues and unrecorded: for work with its
        own short deadline, such as opening a modal while Slack's trigger id is valid."""
        task = asyncio.create_task(self._call(fn, args))
        self._urgent.add(task)
        task.add_done_callback(self._urgent.discard)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(queue), name=f"{self.name}-worker-{i}")
            for i, queue in enumerate(self._queues)
        ]
        if self.journal is not None:
            self.journal.start()
            self._tasks.append(asyncio.create_task(self._recover(), name=f"{self.name}-recover"))

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish what was acknowledged (for up to `timeout` seconds), then stop."""
        waiting = [asyncio.create_task(q.join()) for q in self._queues]
        waiting += list(self._urgent)
        _, late = await asyncio.wait(waiting, timeout=timeout)
        for task in late:
            task.cancel()
        if self.pending:
            left = "they run again at the next start" if self.journal else "they are lost"
            log.error("%s stopped with %d requests unhandled; %s", self.name, self.pending, left)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.journal is not None:
            await self.journal.stop()

    async def recover_once(self) -> int:
        """Queue requests that a crashed instance recorded but never finished."""
        assert self.journal is not None
        rows = await self.journal.orphans()
        for row in rows:
            log.info("%s: rerunning a %s request left by a stopped instance", self.name, row.kind)
            request = Accepted(row.id, row.replies)
            await self._queue_for(row.person).put(Job(row.kind, row.payload, request))
        return len(rows)

    def _queue_for(self, person: str) -> asyncio.Queue[Job]:
        return self._queues[zlib.crc32(person.encode()) % len(self._queues)]

    async def _recover(self) -> None:
        assert self.journal is not None
        while True:
            try:
                while await self.recover_once():
                    pass
            except Exception as exc:
                log.error(
                    "%s: looking for unfinished requests failed: %s", self.name, type(exc).__name__
                )
            await asyncio.sleep(self.journal.renew_every * 2)

    async def _work(self, queue: asyncio.Queue[Job]) -> None:
        while True:
            job = await queue.get()
            try:
                await self._run(job)
            finally:
                queue.task_done()

    async def _run(self, job: Job) -> None:
        request = job.request
        if job.recorded is not None:  # its turn keeps its replies in that record
            try:
                request = Accepted(await job.recorded)
            except JournalUnavailable:  # still do it: the handler tells them if it can't
                log.warning("%s: request not recorded (database unavailable)", self.name)
        handler = self._handlers.get(job.kind)
        if handler is None:
            log.error("%s: no handler for %r requests", self.name, job.kind)
        else:
            await self._call(handler, (job.payload, request))
        # Done even if it failed: a request that breaks its handler would break it again.
        if request.id is not None and self.journal is not None:
            self.journal.done(request.id)

    async def _call(self, fn: Callable[..., Awaitable[None]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            # Where it failed, not the message: an exception's text can quote what staff wrote.
            frames = traceback.extract_tb(exc.__traceback__)[-3:]
            where = " <- ".join(f"{f.filename}:{f.lineno} {f.name}" for f in reversed(frames))
            name = getattr(fn, "__name__", "work")
            log.error("%s: %s failed: %s at %s", self.name, name, type(exc).__name__, where)
