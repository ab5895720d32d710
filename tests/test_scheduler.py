"""The scheduler inside `schoolbot run`: its ticks run and write nothing at the INFO level
a school's log is kept at."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp.test_utils import TestServer
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from bot.app import create_app
from bot.config import Settings
from bot.scheduler import SCHEDULER_KEY
from tests.helpers import make_service


@pytest.mark.issue(10, 14)
async def test_scheduler_ticks_write_no_info_lines(caplog, sqlite_url, clock, tmp_path):
    caplog.set_level(logging.INFO)  # what `schoolbot run` logs at its default level
    service = make_service(sqlite_url, "default", clock, tmp_path / "evidence")
    settings = Settings(_env_file=None, SCHOOLBOT_DATA_DIR=tmp_path, SCHOOLBOT_TICK_SECONDS=0.2)
    app = create_app(service, settings)
    ticks: asyncio.Queue[bool] = asyncio.Queue()
    async with TestServer(app):
        app[SCHEDULER_KEY].add_listener(
            lambda event: ticks.put_nowait(event.code == EVENT_JOB_EXECUTED),
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
        )
        for _ in range(3):
            assert await asyncio.wait_for(ticks.get(), timeout=30) is True
    chatter = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("apscheduler") and r.levelno < logging.WARNING
    ]
    assert chatter == []
