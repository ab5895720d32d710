"""The daily retention sweep on two instances sharing one PostgreSQL disposes of
each record once, with one line each in the disposal log.

Both instances run the real scheduler (its retention job runs at start, then daily), and
both are also made to sweep at the same moment from threads, so the claims (SKIP LOCKED
and the compare-and-set on `disposed_at`) are what keeps them apart.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import create_app
from bot.config import Settings
from bot.domain.turns import ButtonPress
from bot.features.cases import cards
from bot.records.retention import RetentionSweep
from bot.storage import db
from bot.storage.tables import Case, Disposal
from tests.fakes.workspace_harness import open_case
from tests.helpers import FakeClock, grant, make_service, say

CASES = 6


@pytest.mark.issue(15, 5)
async def test_the_sweep_disposes_of_each_record_once_across_two_instances(pg_url, tmp_path):
    db.upgrade(pg_url)
    clock = FakeClock(datetime(2026, 11, 21, 15, 0, tzinfo=UTC))
    first = make_service(pg_url, "default", clock, tmp_path / "evidence")
    second = make_service(pg_url, "default", clock, tmp_path / "evidence")
    grant(first, "dsl1", "dsl")
    refs = [open_case(first) for _ in range(CASES)]
    for ref in refs:
        first.press(
            ButtonPress("console", "dsl1", cards.CASE_CLOSE, ref, text="Outcome", name="Dee")
        )
    clock.current = datetime(2051, 11, 21, 9, 0, tzinfo=UTC)
    assert len(RetentionSweep(second.kernel).due()) == CASES
    for ref in refs:  # safeguarding records go only on a person's decision (issue 24)
        say(first, "dsl1", f"dispose {ref} because reviewed")

    start = threading.Barrier(2)
    counts: list[int] = []

    def sweep(service) -> None:
        start.wait()
        counts.append(RetentionSweep(service.kernel).sweep())

    settings = Settings(_env_file=None, SCHOOLBOT_DATA_DIR=tmp_path, SCHOOLBOT_TICK_SECONDS=60)
    async with TestServer(create_app(first, settings)), TestServer(create_app(second, settings)):
        await asyncio.gather(asyncio.to_thread(sweep, first), asyncio.to_thread(sweep, second))

        def finished() -> tuple[list[Disposal], list[Case]]:
            with first.kernel.session() as session:
                return list(session.exec(select(Disposal))), list(session.exec(select(Case)))

        # The schedulers' own runs at start may still be going: a disposal is committed
        # first, and its files are deleted and counted just after.
        for _ in range(200):
            log, cases = finished()
            if len(log) == CASES and sum(d.files_deleted for d in log) >= 2:
                break
            await asyncio.sleep(0.05)
    log, cases = finished()
    assert collections.Counter(d.record for d in log) == {ref: 1 for ref in refs}
    assert all(c.disposed_at is not None for c in cases)
    assert sum(counts) <= CASES
    assert sum(d.files_deleted for d in log) == 2  # six cases, the same two files
    assert not [f for f in (tmp_path / "evidence").rglob("*") if f.is_file()]
    first.engine.dispose()
    second.engine.dispose()
