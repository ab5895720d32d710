"""One running bot with every inbound door open, for the door-edge and fuzz tests.

Slack (HTTP mode, against the local fake Slack), Teams (signed against the fake connector,
or anonymous on loopback) and the comment webhook, on one aiohttp server, on SQLite or
PostgreSQL, with an engine whose lock wait can be made short to play a database outage.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from sqlmodel import func, select

from bot.app import create_app
from bot.config import Settings
from bot.dispatch import BotService
from bot.domain.policy import load_pack
from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.platforms import PLATFORM_TITLES
from bot.storage import db
from bot.storage.tables import IntakeRequest
from tests.fakes.fake_connector import FakeConnector
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack
from tests.fakes.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL, Bot
from tests.fakes.teams_client import TeamsClient
from tests.fakes.webhook_client import ACCOUNT, CONTACTS, Hook
from tests.fakes.webhook_client import SECRET as HOOK_SECRET

MARKER = "ZQX-marker-7731"  # put in request bodies; must never appear in a log line
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Edges:
    server: TestServer
    service: BotService
    http: aiohttp.ClientSession
    slack: Bot
    hook: Hook
    teams: TeamsClient | None

    async def raw_slack(self, body: bytes, headers: dict[str, str]) -> aiohttp.ClientResponse:
        url = self.server.make_url("/slack/events")
        response = await self.http.post(url, data=body, headers=headers)
        await response.read()
        return response

    async def signed_slack(
        self, body: str | bytes, content_type: str, timestamp: str | None = None
    ) -> aiohttp.ClientResponse:
        """Signed over the exact bytes, with any timestamp text (even a bad one)."""
        raw = body.encode() if isinstance(body, str) else body
        ts = timestamp if timestamp is not None else str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": slack_signature(ts, raw),
        }
        return await self.raw_slack(raw, headers)

    async def ready(self) -> int:
        async with self.http.get(self.server.make_url("/readyz")) as response:
            return response.status


def slack_signature(timestamp: str, raw: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()


@asynccontextmanager
async def edges(
    url: str,
    clock: Any,
    tmp_path: Path,
    *,
    connector: FakeConnector | None = None,
    anonymous: bool = False,
    pack: str = "default",
    lock_timeout: float = 5.0,
) -> AsyncIterator[Edges]:
    fake_slack = await FakeSlack().start()
    engine = db.make_engine(url, lock_timeout=lock_timeout)
    service = BotService(
        engine,
        load_pack(pack),
        FolderEvidenceStore(tmp_path / "evidence"),
        clock=clock,
        platform_titles=PLATFORM_TITLES,
    )
    service.comments.register_add(
        "cli:admin",
        name=ACCOUNT,
        purpose="News from Year 6",
        platform="WordPress",
        author="Ms Head",
        moderators=["Ms Head", "Mr Deputy"],
        contacts=CONTACTS,
    )
    settings: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_DSL_CHANNEL": DSL_CHANNEL,
        "SLACK_SLT_CHANNEL": SLT_CHANNEL,
        "SCHOOLBOT_WEBHOOK_SECRET": HOOK_SECRET,
        "SCHOOLBOT_DATA_DIR": tmp_path,
    }
    if connector is not None and anonymous:
        connector.require_token = False
        settings["TEAMS_ALLOW_ANONYMOUS"] = True
    elif connector is not None:
        settings.update(connector.settings)
    server = TestServer(create_app(service, Settings(**settings)))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            teams = TeamsClient(server, service, connector, http) if connector else None
            yield Edges(
                server,
                service,
                http,
                Bot(server, service, fake_slack, http),
                Hook(server, service, http),
                teams,
            )
    finally:
        await server.close()
        await fake_slack.close()
        engine.dispose()


def assert_clean_log(records: list[logging.LogRecord], *secrets: str) -> None:
    """No traceback and none of these strings (request bodies, names) in any log line."""
    for record in records:
        line = record.getMessage()
        if record.exc_info:
            line += "\n" + TRACEBACK
        assert TRACEBACK not in line, f"{record.name}: {line[:300]}"
        for secret in (MARKER, *secrets):
            assert secret not in line, f"{record.name} logged {secret!r}: {line[:300]}"


class BotThread:
    """`edges` running on an event loop in a thread of its own, so that synchronous code
    (Hypothesis examples, a bench) can send it requests one after another."""

    def __init__(self, url: str, tmp_path: Path, clock: Any, **options: Any):
        self.url, self.tmp_path, self.clock, self.options = url, tmp_path, clock, options
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def start(self) -> BotThread:
        self._thread.start()
        assert self._ready.wait(30), "the bot did not start"
        return self

    async def _main(self) -> None:
        async with edges(self.url, self.clock, self.tmp_path, **self.options) as running:
            self.edges, self.loop, self._stop = running, asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            await self._stop.wait()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def address(self, path: str) -> str:
        return str(self.edges.server.make_url(path))

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until the Slack work acknowledged so far is done (its records are gone)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.edges.service.kernel.session() as session:
                if session.exec(select(func.count()).select_from(IntakeRequest)).one() == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("acknowledged Slack work did not finish")


@contextmanager
def trapped_log(level: int = logging.INFO) -> Iterator[list[logging.LogRecord]]:
    """Every log record at `level` or above, from every thread, while the block runs."""
    records: list[logging.LogRecord] = []

    class Trap(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root, trap = logging.getLogger(), Trap(level)
    before = root.level
    root.addHandler(trap)
    root.setLevel(min(before, level) if before else level)
    try:
        yield records
    finally:
        root.removeHandler(trap)
        root.setLevel(before)
