"""The loop every chat adapter runs to post queued messages; the platform part is `send`.

Nothing is dropped: a row is marked sent only after the platform accepted it, and every
failure is rescheduled (rate limits after their Retry-After, other errors with backoff)
until it is parked as failed with a log line an admin can act on. While the database is
down the loop says so once, then once a minute, and again when it is back.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.domain.messages import Priority
from bot.kernel.core import Kernel
from bot.kernel.outbox import PendingSend
from bot.observability import logs, metrics

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
DB_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
OUTAGE_REMINDER = timedelta(minutes=1)


class SendLoop(abc.ABC):
    platform: str
    # Seconds between two bulk sends (the yearly reminder to everyone), from the platform's
    # documented rate limits (each subclass cites its own), so a bulk send never draws a
    # 429 that would hold up an alert; 0 sends them unpaced.
    bulk_gap: float = 0.0
    batch = 50  # sends claimed in one pass

    def __init__(
        self,
        kernel: Kernel,
        clock: Callable[[], datetime] | None = None,
        poll_seconds: float = 2.0,
    ):
        self.kernel = kernel
        self.clock = clock or kernel.now
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # one pass at a time per instance
        self._task: asyncio.Task[None] | None = None
        self._seen = -1
        self._down_since: datetime | None = None  # the database, as this loop last found it
        self._down_said: datetime | None = None
        self._again = False  # the last pass left due sends behind: go round at once
        self._last_bulk = -1e9  # the event loop's clock at the last bulk send

    @abc.abstractmethod
    async def send(self, item: PendingSend) -> None:
        """Post one message and record the outcome with sent/retry/give_up."""

    def kick(self) -> None:
        """Deliver now rather than at the next poll (called after each handled request)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"{self.platform}-sends")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        logs.bind(logs.RequestTag(None, self.platform))  # this task's lines: the platform
        while True:
            if not self._again:
                woken = False
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
                # lands as the event is set, and stop() would then wait for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await self._wake.wait()
                    woken = True
                self._wake.clear()
                # A kick after a request that queued nothing needn't touch the database.
                if woken and not self._newer() and self._down_since is None:
                    continue
            self._again = False
            await self.send_once()

    async def send_once(self) -> None:
        """One pass. A database outage is a line when it starts, one a minute while it
        lasts and one when it ends, not a traceback every pass."""
        try:
            await self.flush()
        except DB_DOWN as exc:
            now = self.clock()
            if self._down_since is None:
                self._down_since = self._down_said = now
                log.error(
                    "%s sends: can't reach the database (%s); queued messages wait until "
                    "it is back",
                    self.platform,
                    type(exc).__name__,
                )
            elif self._down_said is not None and now - self._down_said >= OUTAGE_REMINDER:
                self._down_said = now
                minutes = int((now - self._down_since).total_seconds() // 60)
                log.error(
                    "%s sends: still can't reach the database (%d min)", self.platform, minutes
                )
            return
        except Exception:  # keep delivering whatever one bad row does
            log.exception("%s send pass failed", self.platform)
            return
        if self._down_since is not None:
            log.warning("%s sends: the database is back; sending again", self.platform)
            self._down_since = self._down_said = None

    async def flush(self) -> int:
        """One pass: claim due sends, most urgent first, and send them. Bulk sends are
        paced (`bulk_gap`) and claimed a few at a time; when this instance queues anything
        meanwhile, the rest of the pass is given back so the next one starts with it."""
        async with self._flushing:
            self._seen = self.kernel.outbox.enqueued
            outbox, run = self.kernel.outbox, self.kernel.work.run
            bulk_batch = max(1, int(self.poll_seconds / self.bulk_gap)) if self.bulk_gap else None
            pending = await run(outbox.pending, self.platform, self.batch, bulk_batch)
            for n, item in enumerate(pending):
                if item.priority >= Priority.BULK and await self._wait_for_bulk_turn():
                    await run(outbox.release, [p.outbox_id for p in pending[n:]])
                    self._again = True
                    return n
                if await run(outbox.still_ours, item.outbox_id):
                    await self.send(item)
                else:
                    log.info("outbox %s was taken over by another instance", item.outbox_id)
            bulk = sum(1 for p in pending if p.priority >= Priority.BULK)
            self._again = len(pending) >= self.batch or (
                bulk_batch is not None and bulk >= bulk_batch
            )
            return len(pending)

    def _newer(self) -> bool:
        """Has this instance queued anything since the pass began?"""
        return self.kernel.outbox.enqueued != self._seen

    async def _wait_for_bulk_turn(self) -> bool:
        """Wait until the next bulk send may go; True (at once) if something newer was
        queued here meanwhile, which must go first."""
        loop = asyncio.get_running_loop()
        while not self._newer():
            wait = self._last_bulk + self.bulk_gap - loop.time()
            if wait <= 0:
                self._last_bulk = loop.time()
                return False
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
        return True

    # --- recording outcomes ----------------------------------------------------------------

    async def sent(self, item: PendingSend, ref: str | None) -> None:
        metrics.send_result(self.platform, "sent")
        await self.kernel.work.run(self.kernel.outbox.mark_sent, item.outbox_id, ref)

    async def retry(self, item: PendingSend, error: str, wait: timedelta | None = None) -> None:
        """Try again later; after MAX_ATTEMPTS, park it as failed and say so in the log."""
        if wait is None:
            if item.attempts + 1 >= MAX_ATTEMPTS:
                await self.give_up(item, error)
                return
            wait = self.backoff(item)
        metrics.send_result(self.platform, "retried")
        await self._reschedule(item, error, wait)

    async def _reschedule(self, item: PendingSend, error: str, wait: timedelta) -> None:
        await self.kernel.work.run(
            self.kernel.outbox.mark_failed, item.outbox_id, error, self.clock() + wait
        )

    async def rate_limited(self, item: PendingSend, retry_after: str | None) -> None:
        """A 429: wait as long as the platform asks (a second if it says nothing usable)."""
        said = (retry_after or "").strip()
        wait = int(said) if said.isascii() and said.isdigit() and len(said) < 6 else 1
        log.warning(
            "%s rate-limited outbox %s; retrying in %ss", self.platform, item.outbox_id, wait
        )
        metrics.send_result(self.platform, "rate_limited")
        await self._reschedule(item, "rate limited (429)", timedelta(seconds=wait))

    async def give_up(self, item: PendingSend, error: str) -> None:
        metrics.send_result(self.platform, "failed")
        log.error(
            "%s: giving up on outbox %s after %s attempts (%s); see the outbox table",
            self.platform,
            item.outbox_id,
            item.attempts + 1,
            error,
        )
        await self.kernel.work.run(self.kernel.outbox.mark_failed, item.outbox_id, error, None)

    @staticmethod
    def backoff(item: PendingSend) -> timedelta:
        return timedelta(seconds=min(2**item.attempts, 300))
