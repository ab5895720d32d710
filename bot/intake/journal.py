"""The database record of requests a platform was told we have, until their work is done.

A chat platform is answered before the work runs. Without a record, a crash in between
would lose what someone sent, and the platform would not send it again. So each request
is recorded before the answer goes out, deleted when its work is done, and rows that
their instance stops renewing (it died) are run again.

With a spool (intake/spool.py, what the server uses) the request is first written to
a local file, which takes microseconds and survives `kill -9`, and the ack goes out at
once; its database row follows with the next batch, and the next start writes any row a
killed process had not. Without one, the ack waits for the row's commit.

Writes are grouped: requests that arrive within a few milliseconds, or while a batch is
being written, go into one transaction. They run on a thread of their own so that they
never wait behind conversation turns for a thread. A row that can't be stored (a
malformed request) is retried alone, so it can't take the other requests' records with it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from bot.intake.spool import Spool
from bot.storage import intake as intake_rows
from bot.storage.tables import IntakeRequest

if TYPE_CHECKING:
    from bot.intake.records import IntakeRecords

log = logging.getLogger(__name__)
PERSON_MAX, KIND_MAX = 100, 40  # the columns' lengths
# After the first request of a batch arrives, wait this long for more: one write of many
# rows costs about what one of a single row does.
GATHER_SECONDS = 0.02


class JournalUnavailable(Exception):
    """The record could not be written (the database is down)."""


class Pending(NamedTuple):
    """A request being recorded: its name in the spool, and its record once written."""

    token: str
    future: asyncio.Future[Recorded]


class Recorded(NamedTuple):
    """A written record: its id and the time it was accepted (together, its unique name)."""

    id: int
    at: datetime


def check_row(person: Any, kind: Any, payload: Any) -> None:
    """Raise ValueError for a request that could not be stored (say a signed event with
    `"user": null` or a list): it is refused here, before it can share a batch."""
    if not isinstance(person, str) or not person or len(person) > PERSON_MAX:
        raise ValueError("the request names no person")
    if not isinstance(kind, str) or not kind or len(kind) > KIND_MAX:
        raise ValueError("unknown kind of request")
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError("the request's details are not plain JSON") from exc


class IntakeJournal:
    def __init__(self, records: IntakeRecords, platform: str, spool: Spool | None = None):
        self.records = records
        self.kernel = records.kernel
        self.platform = platform
        self.spool = spool
        self._new: list[tuple[dict[str, Any], asyncio.Future[Recorded], str]] = []
        self._done: list[int] = []
        self._wake = asyncio.Event()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, f"{platform}-journal")
        self._task: asyncio.Task[None] | None = None
        self._renewed = 0.0
        self._stopping = False

    @property
    def renew_every(self) -> float:
        return self.records.lease.total_seconds() / 4

    def record(self, person: str, kind: str, payload: dict[str, Any]) -> Pending:
        """Spool the request and write it with the next batch; the future gives its record
        once committed (or JournalUnavailable). Raises ValueError at once for a request
        that can't be stored."""
        check_row(person, kind, payload)
        now = self.kernel.now()
        row = {
            "platform": self.platform,
            "person": person,
            "kind": kind,
            "payload": payload,
            "instance": self.kernel.outbox.instance,
            "accepted_at": now,
            "renewed_at": now,
        }
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        token = uuid.uuid4().hex
        if self.spool is not None:
            self.spool.add(token, row)
        self._new.append((row, future, token))
        self._wake.set()
        return Pending(token, future)

    def settle(self, token: str) -> None:
        """A request that has no database record (it was down) is done: unspool it."""
        if self.spool is not None:
            self.spool.settle(token)

    def done(self, request_id: int) -> None:
        """Its work is finished: delete the row now (with whatever else is being written)."""
        self._done.append(request_id)
        self._wake.set()

    async def orphans(self, limit: int = 100, *, everything: bool = False) -> list[IntakeRequest]:
        """Take over rows whose instance stopped renewing them (`everything`: all rows of
        other instances, for a start-up that knows no other instance can be alive)."""
        lease = timedelta(0) if everything else self.records.lease
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._claim, limit, lease)

    async def reread(self, request_id: int) -> IntakeRequest | None:
        """The row as it is now (its turn may have saved replies), for another attempt."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._get, request_id)

    async def start(self) -> None:
        """Write what a killed process spooled but never recorded, then start writing."""
        with contextlib.suppress(Exception):  # the database is down: the loop retries
            await self._unspool()
        self._task = asyncio.create_task(self._write_loop(), name=f"{self.platform}-journal")

    async def _unspool(self) -> None:
        if self.spool is None or not (left := self.spool.left_over()):
            return
        rows = [row for _, row in left if row.get("platform") == self.platform]
        loop = asyncio.get_running_loop()
        added = await loop.run_in_executor(self._thread, self._write_missing, rows)
        for token, _ in left:
            self.spool.settle(token)
        if added:
            log.info(
                "%s request journal: recorded %d requests left in the spool", self.platform, added
            )

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
        if self.spool is not None:
            self.spool.close()

    async def _write_loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.renew_every):
                    await self._wake.wait()
            if self.spool is not None and not self._stopping:
                with contextlib.suppress(Exception):
                    await self._unspool()  # left over from a start with the database down
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
        if not new and not done and not renew:
            return
        rows = [row for row, _, _ in new]
        ids: list[int | None] = []
        try:
            ids = await asyncio.get_running_loop().run_in_executor(
                self._thread, functools.partial(self._write, rows, done, renew=renew)
            )
        except BaseException:
            self._done = done + self._done  # delete them next time
            raise
        finally:  # every waiting worker hears back, whatever happened
            for n, (row, future, token) in enumerate(new):
                written = ids[n] if n < len(ids) else None
                if written is not None:
                    self.settle(token)  # before its work can start (and finish)
                if future.done():
                    continue
                if written is None:
                    future.set_exception(JournalUnavailable())
                else:
                    future.set_result(Recorded(written, row["accepted_at"]))
        if renew:
            self._renewed = time.monotonic()

    def _write(
        self, rows: list[dict[str, Any]], done: list[int], *, renew: bool
    ) -> list[int | None]:
        """One transaction for the batch; if it fails for a reason other than the database
        being unreachable, each row alone, so one bad row can't lose the others' records."""
        try:
            with self.kernel.session() as session:
                ids: list[int | None] = list(intake_rows.record(session, rows))
                intake_rows.finish(session, done)
                if renew:
                    intake_rows.renew(session, self.kernel.outbox.instance, self.kernel.now())
                session.commit()
                return ids
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError):
            raise  # down or locked: one row at a time would fail the same way, slower
        except Exception as exc:
            log.warning(
                "%s request journal: a batch of %d failed (%s); writing them one by one",
                self.platform,
                len(rows),
                type(exc).__name__,
            )
        ids = [self._write_one(row) for row in rows]
        with self.kernel.session() as session:
            intake_rows.finish(session, done)
            if renew:
                intake_rows.renew(session, self.kernel.outbox.instance, self.kernel.now())
            session.commit()
        return ids

    def _write_one(self, row: dict[str, Any]) -> int | None:
        try:
            with self.kernel.session() as session:
                (request_id,) = intake_rows.record(session, [row])
                session.commit()
                return request_id
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError):
            raise
        except Exception as exc:
            log.error(
                "%s request journal: a %s request could not be recorded: %s",
                self.platform,
                row.get("kind"),
                type(exc).__name__,
            )
            return None

    def _write_missing(self, rows: list[dict[str, Any]]) -> int:
        with self.kernel.session() as session:
            added = intake_rows.record_missing(session, rows)
            session.commit()
            return added

    def _claim(self, limit: int, lease: timedelta) -> list[IntakeRequest]:
        with self.kernel.session() as session:
            rows = intake_rows.claim_orphans(
                session,
                self.platform,
                self.kernel.outbox.instance,
                self.kernel.now(),
                lease,
                limit=limit,
            )
            session.commit()
            return rows

    def _get(self, request_id: int) -> IntakeRequest | None:
        with self.kernel.session() as session:
            return session.get(IntakeRequest, request_id)
