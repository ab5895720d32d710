"""Three real `schoolbot run` processes on one PostgreSQL, one killed mid-way: every nudge
reaches Slack exactly once.

Each process runs the scheduler tick and the Slack delivery loop against a fake Slack that
answers slowly, so messages are in flight when one process is killed with SIGKILL. Its
claimed messages are taken over when their lease ends; one it had posted but not yet
recorded is found by its metadata and not posted again.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.features.comments.rules import CommentIn
from bot.storage import db
from bot.storage.tables import Outbox
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack
from tests.helpers import FakeClock, free_port, make_service

COMMENTS = 24
CONTACTS = ["slack:U1", "slack:U2"]


def seed(url: str, tmp_path: Path) -> None:
    """Comments whose nudges are all due now, written before any bot process starts."""
    from datetime import UTC, datetime

    db.upgrade(url)
    service = make_service(url, "default", FakeClock(datetime.now(UTC)), tmp_path / "seed")
    service.comments.register_add(
        "test",
        name="PE Twitter",
        purpose="Fixtures",
        platform="X",
        author="Mr Jones",
        moderators=["Mr Jones", "Ms Patel"],
        contacts=CONTACTS,
    )
    for n in range(COMMENTS):
        data = CommentIn(account=1, author_type="parent", text=f"Question {n}")
        service.comments.log_comment(data, "cli", "cli:test", platform="slack")
    with service.engine.begin() as connection:
        connection.execute(sa.text("UPDATE outbox SET status = 'sent'"))  # not under test
        connection.execute(
            sa.text(
                "UPDATE reminder SET due_at = now() - interval '1 minute' "
                "WHERE kind = 'comment.nudge'"
            )
        )
    service.engine.dispose()


def start(n: int, url: str, fake: FakeSlack, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SCHOOLBOT_POLICY": "default",
        "SCHOOLBOT_DATA_DIR": str(tmp_path / f"bot{n}"),
        "SCHOOLBOT_PORT": str(free_port()),
        "SCHOOLBOT_TICK_SECONDS": "0.3",
        "SCHOOLBOT_OUTBOX_LEASE_SECONDS": "3",
        "SCHOOLBOT_LOG_LEVEL": "WARNING",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "not-used-here",
        "SLACK_APP_TOKEN": "",
        "SLACK_API_URL": str(fake.server.make_url(f"/p{n}/api/")),  # type: ignore[union-attr]
    }
    log = (tmp_path / f"bot{n}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def test_three_instances_send_each_nudge_exactly_once_when_one_is_killed(pg_url, tmp_path):
    seed(pg_url, tmp_path)
    fake = await FakeSlack(delay=0.15).start()
    processes = [start(n, pg_url, fake, tmp_path) for n in (1, 2, 3)]
    try:
        # Kill whichever instance is busiest, just after it posted something.
        await fake.wait_for("chat.postMessage", count=6, timeout=60)
        busiest = collections.Counter(
            c.instance for c in fake.called("chat.postMessage")
        ).most_common(1)[0][0]
        victim = processes[int(busiest[1:]) - 1]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        expected = COMMENTS * len(CONTACTS)
        engine = db.make_engine(pg_url)
        for _ in range(600):
            with engine.connect() as connection:
                left = connection.execute(
                    sa.text("SELECT count(*) FROM outbox WHERE status <> 'sent'")
                ).scalar()
                done = connection.execute(
                    sa.text(
                        "SELECT count(*) FROM reminder WHERE kind = 'comment.nudge' AND status = 'done'"
                    )
                ).scalar()
            if left == 0 and done == COMMENTS:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail(f"not finished: {left} outbox rows unsent, {done} nudges done")

        posts = [c for c in fake.called("chat.postMessage") if "Reminder:" in c.args["text"]]
        by_outbox = collections.Counter(
            c.args["metadata"]["event_payload"]["outbox_id"] for c in posts
        )
        with engine.connect() as connection:
            nudge_rows = {
                row.id
                for row in connection.execute(
                    select(Outbox.id).where(Outbox.message["text"].as_string().like("Reminder%"))
                )
            }
        engine.dispose()
        assert len(nudge_rows) == expected
        assert set(by_outbox) == nudge_rows  # every nudge was posted ...
        assert max(by_outbox.values()) == 1  # ... and none twice
        assert {c.instance for c in posts} - {busiest}  # the survivors did the rest
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        await fake.close()
