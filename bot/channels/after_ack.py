"""Work a chat platform has already had its answer for, run by a few workers in order.

Slack gives an app 3 seconds to acknowledge a request. If every request's work ran as its
own task, a burst of work would crowd the event loop and delay every later ack behind it;
here the work waits in short queues and a fixed number of workers take it, so an ack is
never behind more than a few pieces of work.

Each person's requests go to the same worker, so their messages and clicks are handled in
the order they arrived. When a worker's queue is full, `submit` waits: the ack is late
(back-pressure, and Slack retries events it had no answer for) rather than work dropped.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
Job = tuple[Callable[..., Awaitable[None]], tuple[Any, ...]]


class AfterAck:
    def __init__(self, name: str, workers: int = 8, queue_limit: int = 2500):
        self.name = name
        self._queues: list[asyncio.Queue[Job]] = [
            asyncio.Queue(maxsize=queue_limit) for _ in range(workers)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self._urgent: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return sum(q.qsize() for q in self._queues)

    async def submit(self, person: str, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Queue `fn(*args)` behind this person's earlier work (waits if that queue is full)."""
        if not self._tasks:  # not started (a test driving the handler directly): run it now
            await self._run(fn, args)
            return
        queue = self._queues[zlib.crc32(person.encode()) % len(self._queues)]
        await queue.put((fn, args))

    def urgent(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Start `fn(*args)` at once, outside the queues: for work with its own short
        deadline, such as opening a modal while Slack's 3-second trigger id is valid."""
        task = asyncio.create_task(self._run(fn, args))
        self._urgent.add(task)
        task.add_done_callback(self._urgent.discard)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(queue), name=f"{self.name}-worker-{i}")
            for i, queue in enumerate(self._queues)
        ]

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish what was acknowledged (for up to `timeout` seconds), then stop."""
        waiting = [asyncio.create_task(q.join()) for q in self._queues]
        waiting += list(self._urgent)
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=timeout)
            for task in late:
                task.cancel()
        if self.pending:
            log.error("%s stopped with %d acknowledged requests unhandled", self.name, self.pending)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _work(self, queue: asyncio.Queue[Job]) -> None:
        while True:
            fn, args = await queue.get()
            try:
                await self._run(fn, args)
            finally:
                queue.task_done()

    async def _run(self, fn: Callable[..., Awaitable[None]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            # Where it failed, not the message: an exception's text can quote what staff wrote.
            frames = traceback.extract_tb(exc.__traceback__)[-3:]
            where = " <- ".join(f"{f.filename}:{f.lineno} {f.name}" for f in reversed(frames))
            log.error("%s: %s failed: %s at %s", self.name, fn.__name__, type(exc).__name__, where)
