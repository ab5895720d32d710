"""The database record of requests a platform was told we have, until their work is done.

A chat platform is answered before the work runs. Without a record, a crash in between
would lose what someone sent, and the platform would not send it again. So each request
is written here as the answer goes out, deleted when its work is done, and rows that
their instance stops renewing (it died) are taken over and run again.

Writes are grouped: requests that arrive while one batch is being written go into the
next, so a burst costs one transaction per batch rather than one per request. They run on
a thread of their own so that they never wait behind conversation turns for a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.storage import accepted
from bot.storage.tables import AcceptedRequest

if TYPE_CHECKING:
    from bot.services.bot import BotService

log = logging.getLogger(__name__)
# After the first request of a batch arrives, wait this long for more: one write of many
# rows costs about what one of a single row does (0.5 ms here), and nothing waits on it.
GATHER_SECONDS = 0.02


class JournalUnavailable(Exception):
    """The record could not be written (the database is down)."""


class RequestJournal:
    def __init__(self, service: BotService, platform: str):
        self.service = service
        self.platform = platform
        self._new: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._done: list[int] = []
        self._wake = asyncio.Event()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, f"{platform}-journal")
        self._task: asyncio.Task[None] | None = None
        self._renewed = 0.0
        self._stopping = False

    @property
    def renew_every(self) -> float:
        return self.service.accepted_lease.total_seconds() / 4

    def record(self, person: str, kind: str, payload: dict[str, Any]) -> asyncio.Future[int]:
        """Write the request with the next batch; the future gives its id once committed."""
        row = {
            "platform": self.platform,
            "person": person,
            "kind": kind,
            "payload": payload,
            "instance": self.service.instance,
            "accepted_at": self.service.now(),
            "renewed_at": self.service.now(),
        }
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._new.append((row, future))
        self._wake.set()
        return future

    def done(self, request_id: int) -> None:
        """Its work is finished: delete the row with the next batch."""
        self._done.append(request_id)
        self._wake.set()

    async def orphans(self, limit: int = 100, everything: bool = False) -> list[AcceptedRequest]:
        """Take over rows whose instance stopped renewing them (`everything`: all rows of
        other instances, for a start-up that knows no other instance can be alive)."""
        lease = timedelta(0) if everything else self.service.accepted_lease
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._claim, limit, lease)

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_loop(), name=f"{self.platform}-journal")

    async def stop(self) -> None:
        """Write what is left (deletions of finished requests), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        with contextlib.suppress(Exception):  # best effort: the rows are rerun otherwise
            await self._write_batch()
        self._thread.shutdown(wait=False)

    async def _write_loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.renew_every):
                    await self._wake.wait()
            if not self._stopping:
                await asyncio.sleep(GATHER_SECONDS)
            self._wake.clear()
            try:
                await self._write_batch()
            except Exception as exc:  # the database is down: callers carry on without it
                log.error("%s request journal: write failed: %s", self.platform, type(exc).__name__)

    async def _write_batch(self) -> None:
        new, self._new = self._new, []
        done, self._done = self._done, []
        renew = time.monotonic() - self._renewed >= self.renew_every
        rows = [row for row, _ in new]
        ids: list[int] = []
        try:
            ids = await asyncio.get_running_loop().run_in_executor(
                self._thread, self._write, rows, done, renew
            )
        except BaseException:
            self._done = done + self._done  # delete them next time
            raise
        finally:  # every waiting worker hears back, whatever happened
            for n, (_, future) in enumerate(new):
                if future.done():
                    continue
                if len(ids) == len(new):
                    future.set_result(ids[n])
                else:
                    future.set_exception(JournalUnavailable())
        if renew:
            self._renewed = time.monotonic()

    def _write(self, rows: list[dict[str, Any]], done: list[int], renew: bool) -> list[int]:
        with self.service.session() as session:
            ids = accepted.record(session, rows)
            accepted.finish(session, done)
            if renew:
                accepted.renew(session, self.service.instance, self.service.now())
            session.commit()
            return ids

    def _claim(self, limit: int, lease: timedelta) -> list[AcceptedRequest]:
        with self.service.session() as session:
            rows = accepted.claim_orphans(
                session, self.platform, self.service.instance, self.service.now(), lease, limit
            )
            session.commit()
            return rows
