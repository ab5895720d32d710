"""Runs the real `schoolbot run` as a process for tests, and reads what it printed.

A free port, a fresh data folder and SQLite database under the test's tmp folder, and
every platform setting given explicitly (empty = off), so no `.env` is read. Waiting never
blocks the event loop, so fakes served from the test's loop keep answering the process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.storage import db
from bot.web.webhook import PATH as HOOK_PATH
from bot.web.webhook import signature as hook_signature
from tests.helpers import FakeClock, free_port, make_service

NOISE = (
    "Traceback",
    "Unclosed client session",
    "Unclosed connector",
    "will be unused",
    "Task was destroyed",
    "Exception ignored",
)
# Every setting `schoolbot run` reads for a platform, empty (= off) unless a test sets it.
PLATFORM_SETTINGS = (
    "SMTP_HOST",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_DSL_CHANNEL",
    "SLACK_SLT_CHANNEL",
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppTenantId",
    "TEAMS_ALLOW_ANONYMOUS",
    "TEAMS_DSL_CHANNEL",
    "TEAMS_SLT_CHANNEL",
    "ToBotFromChannelOpenIdMetadataUrl",
    "ToBotFromChannelTokenIssuer",
    "ToChannelFromBotLoginUrl",
    "ToChannelFromBotOAuthScope",
    "OAuthUrl",
    "SCHOOLBOT_WEBHOOK_SECRET",
)
HOOK_SECRET = "test-webhook-secret-not-real"


class RealBot:
    """One `schoolbot run` process and what it printed."""

    def __init__(self, tmp_path: Path, http: aiohttp.ClientSession, env: dict[str, str]):
        self.http = http
        self.port = int(env.get("SCHOOLBOT_PORT") or free_port())
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout, self.stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
        self.env = {
            **os.environ,
            **dict.fromkeys(PLATFORM_SETTINGS, ""),
            "DATABASE_URL": database_url(tmp_path),
            "SCHOOLBOT_DATA_DIR": str(tmp_path / "data"),
            "SCHOOLBOT_PORT": str(self.port),
            "SCHOOLBOT_HOST": "127.0.0.1",
            "SCHOOLBOT_POLICY": "default",
            "SCHOOLBOT_LOG_LEVEL": "INFO",
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=self.env,
            cwd=tmp_path,  # not the project folder: no developer's .env is picked up
            stdout=self.stdout.open("wb"),
            stderr=self.stderr.open("wb"),
        )

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    async def healthy(self) -> None:
        for _ in range(600):
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited:\n{self.output()}")
            try:
                async with self.http.get(self.url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)  # waiting for another process to start listening
        raise AssertionError(f"the bot did not start:\n{self.output()}")

    async def printed(self, line: str) -> str:
        """Wait for `line` in the output (the start-up checks print in the background)."""
        for _ in range(600):
            if line in self.output():
                return self.output()
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"{line!r} was not printed:\n{self.output()}")

    async def stop(self, sig: signal.Signals) -> int:
        """Stop it as a terminal (SIGINT) or a service manager (SIGTERM) would; its exit code.

        Waits without blocking, so the fakes in this event loop keep answering meanwhile."""
        self.process.send_signal(sig)
        for _ in range(600):
            if (code := self.process.poll()) is not None:
                return code
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot did not stop:\n{self.output()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


def assert_quiet(output: str) -> None:
    found = [noise for noise in NOISE if noise in output]
    assert not found, f"{found} in the output:\n{output}"


@asynccontextmanager
async def real_bot(tmp_path: Path, **env: str) -> AsyncIterator[RealBot]:
    async with aiohttp.ClientSession() as http:
        bot = RealBot(tmp_path, http, env)
        try:
            await bot.healthy()
            yield bot
        finally:
            bot.kill()


async def stopped_cleanly(bot: RealBot, sig: signal.Signals) -> str:
    assert await bot.stop(sig) == 0, bot.output()
    output = bot.output()
    assert_quiet(output)
    return output


def seed_account(tmp_path: Path) -> None:
    """An official account in the register, before the bot starts, for comments to name."""
    url = database_url(tmp_path)
    db.upgrade(url)
    service = make_service(url, "default", FakeClock(datetime.now(UTC)), tmp_path / "seed")
    service.comments.register_add(
        "test",
        name="PE Twitter",
        purpose="Fixtures",
        platform="X",
        author="Mr Jones",
        moderators=["Mr Jones", "Ms Patel"],
        contacts=["slack:UMOD1"],
    )
    service.engine.dispose()


async def post_comment(bot: RealBot) -> int:
    body = json.dumps(
        {"account": "PE Twitter", "author_type": "parent", "text": "When is sports day?"}
    ).encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Schoolbot-Timestamp": ts,
        "X-Schoolbot-Signature": hook_signature(HOOK_SECRET, ts, body),
    }
    async with bot.http.post(bot.url + HOOK_PATH, data=body, headers=headers) as response:
        return response.status
