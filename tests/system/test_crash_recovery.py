"""A real `schoolbot run` killed with SIGKILL after acknowledging messages it had not
finished: the next start runs them again, and each person gets their reply exactly once.

Slack is stalled (chat.postMessage held), so when the kill comes some turns are done with
their replies unsent, and others are still queued behind them. Slack will not resend
either kind: it had its ack.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.storage import db
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack, blocks_text
from tests.fakes.slack_harness import SECRET, dm_event, signed_headers
from tests.helpers import free_port

USERS = [f"UCRASH{n:02d}" for n in range(12)]
FIRST_QUESTION = "member of your family"  # "a pupil sent me..." already says who


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def healthy(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with http.get(url + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)  # waiting for another process to start listening
    raise AssertionError("the bot did not start")


async def send_dm(http: aiohttp.ClientSession, url: str, user: str, n: int) -> int:
    body = json.dumps(dm_event(user, "a pupil sent me a friend request", f"EvCrash{n}", f"{n}.0"))
    headers = signed_headers(body, "application/json")
    async with http.post(url + "/slack/events", data=body, headers=headers) as response:
        return response.status


def accepted_rows(url: str) -> tuple[int, int]:
    """(rows, rows whose turn is done and only replies are left)."""
    engine = db.make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT replies FROM accepted_request")).all()
    engine.dispose()
    return len(rows), sum(r.replies is not None for r in rows)


async def test_acknowledged_messages_survive_a_kill_and_are_answered_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db.upgrade(url)
    fake = await FakeSlack(hold=asyncio.Event()).start()
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "SCHOOLBOT_POLICY": "default",
        "SCHOOLBOT_DATA_DIR": str(tmp_path / "data"),
        "SCHOOLBOT_PORT": str(port),
        "SCHOOLBOT_LOG_LEVEL": "INFO",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": fake.api_url,
    }
    bot_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "bot.log"
    process = start(env, log)
    try:
        async with aiohttp.ClientSession() as http:
            await healthy(http, bot_url)
            statuses = [await send_dm(http, bot_url, user, n) for n, user in enumerate(USERS)]
            assert statuses == [200] * len(USERS)  # Slack has its acks: it won't resend
            for _ in range(200):  # every request recorded, several stuck posting replies
                rows, turns_done = accepted_rows(url)
                if rows == len(USERS) and turns_done >= 3:
                    break
                await asyncio.sleep(0.05)
            assert rows == len(USERS) and 3 <= turns_done < len(USERS)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

            process = start(env, log)  # a restart: same database, new instance
            await healthy(http, bot_url)
            fake.hold.set()  # Slack recovers
            for user in USERS:
                await fake.wait_for("chat.postMessage", channel=f"D{user}", timeout=30)
            # A row is deleted only after its work (the reply included) is done, so once
            # none is left nothing more can be posted: the counts below are final.
            for _ in range(200):
                if accepted_rows(url)[0] == 0:
                    break
                await asyncio.sleep(0.05)  # polling the other process's database
        replies = collections.Counter(
            c.args["channel"]
            for c in fake.called("chat.postMessage")
            if FIRST_QUESTION in blocks_text(c)
        )
        assert replies == {f"D{user}": 1 for user in USERS}
        assert accepted_rows(url) == (0, 0)
        assert "rerunning a message request" in log.read_text()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)  # a normal stop gives queued work 10 s
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        await fake.close()


# --- a reply Slack had before a kill is not sent again -------------------------------------


def bot_env(url: str, fake: FakeSlack, tmp_path, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SCHOOLBOT_POLICY": "default",
        "SCHOOLBOT_DATA_DIR": str(tmp_path / "data"),
        "SCHOOLBOT_PORT": str(port),
        "SCHOOLBOT_LOG_LEVEL": "INFO",
        "SCHOOLBOT_ACCEPTED_LEASE_SECONDS": "1",  # PostgreSQL: a dead instance's rows, soon
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": fake.api_url,
    }


@pytest.mark.issue(11, 1)
async def test_a_reply_slack_had_before_a_kill_is_not_sent_again(database_url, tmp_path):
    """Killed after Slack took the reply but before the record was deleted: the restart
    finds the reply in the conversation and does not post it a second time."""
    fake = await FakeSlack(hold=asyncio.Event(), finish_held_posts=True).start()
    port = free_port()
    env = bot_env(database_url, fake, tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "bot.log"
    process = start(env, log)
    try:
        async with aiohttp.ClientSession() as http:
            await healthy(http, url)
            assert await send_dm(http, url, "UONCE", 1) == 200
            await fake.wait_for_held(1)  # the turn is done and its reply is on its way
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            fake.hold.set()  # Slack posts it although the sender is gone
            await fake.wait_for("chat.postMessage", channel="DUONCE")
            assert accepted_rows(database_url) == (1, 1)  # the record outlived the reply

            process = start(env, log)
            await healthy(http, url)
            for _ in range(200):
                if accepted_rows(database_url)[0] == 0:
                    break
                await asyncio.sleep(0.05)  # polling the other process's database
        assert accepted_rows(database_url) == (0, 0)
        asked = [
            c
            for c in fake.called("chat.postMessage", channel="DUONCE")
            if FIRST_QUESTION in blocks_text(c)
        ]
        assert len(asked) == 1
        assert "not sending them again" in log.read_text()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)
        await fake.close()


# --- repeated kills with DMs in flight, on SQLite and PostgreSQL ----------------------------

KILLS = 3
PER_ROUND = 12


@pytest.mark.issue(11, 1)
async def test_kills_with_dms_in_flight_lose_and_double_no_reply(database_url, tmp_path):
    """Each round sends DMs from new people while replies are being posted (Slack takes
    20 ms a post), then SIGKILLs the bot mid-flight and starts it again. Every request
    that was acknowledged gets its reply exactly once; one cut off before its ack may
    get one (its record was written) or none (Slack would resend it), never two."""
    fake = await FakeSlack(delay=0.02).start()
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "SCHOOLBOT_POLICY": "default",
        "SCHOOLBOT_DATA_DIR": str(tmp_path / "data"),
        "SCHOOLBOT_PORT": str(port),
        "SCHOOLBOT_LOG_LEVEL": "INFO",
        # On PostgreSQL another instance could be alive, so a dead one's requests wait out
        # its lease: keep that short here.
        "SCHOOLBOT_ACCEPTED_LEASE_SECONDS": "1",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": fake.api_url,
    }
    bot_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "bot.log"
    acked: set[str] = set()
    cut_off: set[str] = set()
    left_at_kill: list[int] = []
    process = start(env, log)
    try:
        async with aiohttp.ClientSession() as http:

            async def send(user: str, n: int) -> None:
                try:
                    status = await send_dm(http, bot_url, user, n)
                except aiohttp.ClientError:
                    status = 0
                (acked if status == 200 else cut_off).add(user)

            for round_ in range(KILLS):
                await healthy(http, bot_url)
                posted = len(fake.called("chat.postMessage"))
                users = [f"UK{round_}X{n:02d}" for n in range(PER_ROUND)]
                sends = [
                    asyncio.create_task(send(user, round_ * 100 + n))
                    for n, user in enumerate(users)
                ]
                # Kill once a few replies are out and the rest are still being worked on.
                await fake.wait_for("chat.postMessage", count=posted + 3, timeout=30)
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                await asyncio.gather(*sends)
                left_at_kill.append(accepted_rows(database_url)[0])
                process = start(env, log)  # a restart: same database, new instance

            await healthy(http, bot_url)
            for user in acked:
                await fake.wait_for("chat.postMessage", channel=f"D{user}", timeout=30)
            for _ in range(400):  # the reruns finish: no record left, nothing more to post
                if accepted_rows(database_url)[0] == 0:
                    break
                await asyncio.sleep(0.05)  # polling the other process's database
        posts = collections.Counter(
            (c.args["channel"], c.args.get("text")) for c in fake.called("chat.postMessage")
        )
        doubled = {key: n for key, n in posts.items() if n > 1}
        asked = {
            c.args["channel"]
            for c in fake.called("chat.postMessage")
            if FIRST_QUESTION in blocks_text(c)
        }
        lost = {user for user in acked if f"D{user}" not in asked}
        assert (lost, doubled) == (set(), {})
        assert accepted_rows(database_url) == (0, 0)
        assert len(acked) >= KILLS * 3 and any(left_at_kill)  # the kills did cut work short
        assert "rerunning a message request" in log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        await fake.close()
