"""Evidence any instance can serve (issue 25, point 7, done when): three real `schoolbot run`
processes on one PostgreSQL database. A member of staff reports online abuse through
instance 1 over Slack and sends a screenshot; instance 1 is killed (SIGKILL); instances 2
and 3 each serve the same bytes from their web workspace (the file, and the case bundle).

The bytes are in the database (encrypted with EVIDENCE_KEYS), on no instance's disk.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.storage import db
from bot.web.access import WebAccess
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack
from tests.fakes.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL, Bot
from tests.helpers import FakeClock, free_port, grant, make_service

PACK = "dukeries-academy"
REPORTER, SLT = "U4", "USLT"


def screenshot() -> bytes:
    """A real PNG (1x1) with a marker in a text chunk, as a phone's screenshot would be."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(
            b"tEXt", b"Comment\0MARKER-SCREENSHOT of the abuse " + os.urandom(16).hex().encode()
        )
        + chunk(b"IDAT", zlib.compress(b"\x00\xcc\x22\x22"))
        + chunk(b"IEND", b"")
    )


class Instance:
    """One `schoolbot run` process with Slack (HTTP mode) and the web workspace on."""

    def __init__(self, n: int, url: str, fake: FakeSlack, tmp_path: Path, key: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = tmp_path / f"bot{n}"
        self.log = tmp_path / f"bot{n}.log"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SCHOOLBOT_POLICY": PACK,
            "SCHOOLBOT_DATA_DIR": str(self.data),
            "SCHOOLBOT_PORT": str(self.port),
            "SCHOOLBOT_PUBLIC_URL": self.url,
            "SCHOOLBOT_LOG_LEVEL": "WARNING",
            "EVIDENCE_KEYS": key,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_APP_TOKEN": "",
            "SLACK_API_URL": fake.api_url,
            "SLACK_DSL_CHANNEL": DSL_CHANNEL,
            "SLACK_SLT_CHANNEL": SLT_CHANNEL,
        }
        env.pop("EVIDENCE_STORE", None)  # the default for PostgreSQL is under test
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env, cwd=tmp_path, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def make_url(self, path: str) -> str:
        """Where Slack sends its requests (what the harness's Bot asks of a server)."""
        return self.url + path

    async def healthy(self, http: aiohttp.ClientSession) -> None:
        for _ in range(600):
            assert self.process.poll() is None, self.log.read_text()
            try:
                async with http.get(self.url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await _pause()
        raise AssertionError(f"instance never answered /healthz:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def _pause() -> None:
    await asyncio.sleep(0.05)  # a real process starting: nothing to inject


async def served(instance: Instance, url: str, ref: str) -> tuple[bytes, bytes]:
    """Signed in to this instance's workspace as the SLT member, as from chat: the evidence
    file from the case page, and the screenshot inside the case bundle."""
    service = make_service(url, PACK, FakeClock(datetime.now(UTC)), instance.data / "unused")
    link = WebAccess(service.kernel, instance.url).issue_link(
        "slack", SLT, "Sam Lead", f"/web/cases/{ref}"
    )
    service.engine.dispose()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(link) as page:
            assert page.status == 200, await page.text()
            html = await page.text()
        links = set(re.findall(rf"/web/cases/{ref}/evidence/\d+(?=\")", html))
        assert len(links) == 1, f"the case page offers no intact file to download:\n{html}"
        [file_path] = links
        async with browser.get(instance.url + file_path) as response:
            assert response.status == 200, await response.text()
            downloaded = await response.read()
        async with browser.get(f"{instance.url}/web/cases/{ref}/bundle.zip") as response:
            assert response.status == 200
            bundle = zipfile.ZipFile(io.BytesIO(await response.read()))
    [inside] = [n for n in bundle.namelist() if n.startswith("evidence/")]
    assert inside.endswith("shot.png")
    return downloaded, bundle.read(inside)


@pytest.mark.issue(25, 7)
async def test_evidence_sent_to_one_instance_is_served_by_the_others_after_it_is_killed(
    pg_url, tmp_path
):
    db.upgrade(pg_url)
    seeded = make_service(pg_url, PACK, FakeClock(datetime.now(UTC)), tmp_path / "seed")
    grant(seeded, SLT, "slt", platform="slack")
    seeded.engine.dispose()
    key = base64.b64encode(os.urandom(32)).decode()
    shot = screenshot()
    sha = hashlib.sha256(shot).hexdigest()
    fake = await FakeSlack().start()
    fake.files["shot.png"] = (shot, "image/png")
    instances = [Instance(n, pg_url, fake, tmp_path, key) for n in (1, 2, 3)]
    try:
        async with aiohttp.ClientSession() as http:
            for instance in instances:
                await instance.healthy(http)
            first = Bot(instances[0], None, fake, http)  # type: ignore[arg-type]
            await report_with_a_screenshot(first, fake, len(shot))
            [alert] = await fake.wait_for("chat.postMessage", channel=SLT_CHANNEL, timeout=30)
            ref = re.search(r"CB-\d{4}", str(alert.args)).group(0)  # type: ignore[union-attr]

        instances[0].process.send_signal(signal.SIGKILL)
        assert instances[0].process.wait(timeout=10) == -signal.SIGKILL

        for survivor in instances[1:]:
            downloaded, bundled = await served(survivor, pg_url, ref)
            assert hashlib.sha256(downloaded).hexdigest() == sha
            assert hashlib.sha256(bundled).hexdigest() == sha
    finally:
        for instance in instances:
            instance.stop()
        await fake.close()

    # In the database, encrypted; on no instance's disk.
    engine = db.make_engine(pg_url)
    with engine.connect() as connection:
        [row] = connection.execute(sa.text("SELECT sha256, data FROM evidence_blob")).all()
    engine.dispose()
    assert row.sha256 == sha and b"MARKER-SCREENSHOT" not in bytes(row.data)
    for instance in instances:
        assert not [p for p in instance.data.rglob("*") if p.is_file() and p.name == sha]


async def report_with_a_screenshot(bot: Bot, fake: FakeSlack, size: int) -> None:
    """Online abuse about the reporter, with one screenshot, all through this instance."""
    await bot.say(REPORTER, "someone keeps posting about me online")
    await bot.answer(REPORTER, "Me", "Facebook")
    await bot.say(REPORTER, "https://facebook.com/post/1")
    await bot.say(REPORTER, "yesterday 8pm")
    await bot.say(REPORTER, "Insulting posts about my teaching")
    info: dict[str, Any] = {
        "id": "F1", "name": "shot.png", "mimetype": "image/png", "size": size,
        "url_private_download": fake.file_url("shot.png"),
    }  # fmt: skip
    channel = f"D{REPORTER}"
    before = len(fake.called("chat.postMessage", channel=channel))
    assert (await bot.dm(REPORTER, "", files=[info])).status == 200
    await fake.wait_for("chat.postMessage", before + 1, channel=channel, timeout=30)
    assert "That's 1 file so far" in bot.last_dm(REPORTER)
    await bot.answer(REPORTER, "Done", "No", "No", "No")
    assert "CB-0001" in bot.last_dm(REPORTER)
