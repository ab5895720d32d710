"""SCHOOLBOT_LOG_FORMAT=json on the real `schoolbot run`: every line it writes is one JSON
object with the same keys, the request id it returns (X-Request-Id) is on the lines its
work wrote, and nothing a person sent reaches the log, whatever happens to the request."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.observability import logs
from bot.web.webhook import PATH as HOOK_PATH
from bot.web.webhook import signature as hook_signature
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack
from tests.fakes.real_bot import (
    HOOK_SECRET,
    PLATFORM_SETTINGS,
    real_bot,
    seed_account,
    stopped_cleanly,
)
from tests.fakes.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL, dm_event, signed_headers
from tests.helpers import free_port

# Stands for a pupil's name and what staff wrote: it must never be in the log.
MARKER = "Qx9marker-Barnaby-Flintwhistle"
METRICS_TOKEN = "metrics-token-for-the-json-log-test"


def json_lines(output: str) -> list[dict[str, object]]:
    records = []
    for line in output.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)  # every line, not only most: a collector reads them all
        assert isinstance(record, dict), line
        assert set(logs.KEYS) <= record.keys(), line
        records.append(record)
    return records


@pytest.mark.issue(26, 5)
async def test_every_line_is_json_with_request_ids_and_no_words_from_any_request(tmp_path):
    seed_account(tmp_path)  # the webhook's comment names an account in the register
    fake = await FakeSlack().start()
    try:
        async with real_bot(
            tmp_path,
            SCHOOLBOT_LOG_FORMAT="json",
            SCHOOLBOT_METRICS_TOKEN=METRICS_TOKEN,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.api_url,
            SLACK_DSL_CHANNEL=DSL_CHANNEL,
            SLACK_SLT_CHANNEL=SLT_CHANNEL,
            SCHOOLBOT_WEBHOOK_SECRET=HOOK_SECRET,
        ) as bot:
            # A DM with the marker; Slack refuses the reply (429 past the SDK's two retries),
            # so it is logged as failed and goes to the outbox, whose first try gets a 429 too.
            for _ in range(4):
                fake.fail_next("chat.postMessage", status=429, retry_after=0)
            body = json.dumps(dm_event("UJSON1", f"my pupil {MARKER} sent me a request", "Ev1"))
            headers = signed_headers(body, "application/json")
            async with bot.http.post(bot.url + "/slack/events", data=body, headers=headers) as r:
                assert r.status == 200
                dm_request = r.headers["X-Request-Id"]
            queued = await fake.wait_for("chat.postMessage", 2, channel="UJSON1", timeout=30)
            assert queued[-1].response.get("ok"), "the reply got through in the end"
            # Refused: a forged signature, and a webhook body signed with the wrong secret.
            forged = json.dumps(dm_event("UJSON2", MARKER, "Ev2"))
            bad = {**signed_headers(forged, "application/json"), "X-Slack-Signature": "v0=00"}
            async with bot.http.post(bot.url + "/slack/events", data=forged, headers=bad) as r:
                assert r.status == 401
            comment = json.dumps(
                {"account": "PE Twitter", "author_type": "parent", "text": MARKER}
            ).encode()
            ts = str(int(time.time()))
            for secret, status in (("not-the-secret", 401), (HOOK_SECRET, 201)):
                sign = {
                    "Content-Type": "application/json",
                    "X-Schoolbot-Timestamp": ts,
                    "X-Schoolbot-Signature": hook_signature(secret, ts, comment),
                }
                async with bot.http.post(bot.url + HOOK_PATH, data=comment, headers=sign) as r:
                    assert r.status == status
            # The metrics, refused and then read.
            async with bot.http.get(bot.url + "/metrics") as r:
                assert r.status == 401
            auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            async with bot.http.get(bot.url + "/metrics", headers=auth) as r:
                assert r.status == 200 and MARKER not in await r.text()
            await bot.printed("Slack: the bot is in the SLT channel.")
            output = await stopped_cleanly(bot, signal.SIGTERM)
    finally:
        await fake.close()

    assert MARKER not in output
    for secret in (BOT_TOKEN, SECRET, HOOK_SECRET, METRICS_TOKEN):
        assert secret not in output
    records = json_lines(output)
    by_logger: dict[object, list[dict[str, object]]] = {}
    for record in records:
        by_logger.setdefault(record["logger"], []).append(record)
        assert record["school"] == "Our School", record  # the default pack's school
    # What `run` says as it starts, and the start-up checks, are log lines too.
    assert any("schoolbot for Our School" in str(r["event"]) for r in by_logger["bot.cli"])
    assert any("signed in as" in str(r["event"]) for r in by_logger["bot.startup_checks"])
    # Each access line has our id for the request and the door it came in by.
    access = by_logger["aiohttp.access"]
    slack_lines = [r for r in access if "/slack/events" in str(r["event"])]
    assert {r["platform"] for r in slack_lines} == {"slack"}
    assert dm_request in {r["request_id"] for r in slack_lines}
    assert {r["platform"] for r in access if HOOK_PATH in str(r["event"])} == {"webhook"}
    # The work done after Slack's ack carries the same id, on whichever task or thread ran it.
    failed_reply = [
        r for r in by_logger["bot.platforms.slack.sending"] if "failed" in str(r["event"])
    ]
    assert failed_reply and {r["request_id"] for r in failed_reply} == {dm_request}
    assert {r["level"] for r in failed_reply} == {"ERROR"}
    # The send loop's lines carry its platform.
    limited = [r for r in by_logger["bot.platforms.send_loop"] if "rate-limited" in str(r["event"])]
    assert limited and {r["platform"] for r in limited} == {"slack"}


@pytest.mark.issue(26, 5)
def test_an_exception_is_logged_as_its_type_and_place_never_its_text():
    """A database error can quote what staff wrote: only its type and frames are kept."""
    out = io.StringIO()
    handler = logs.handler("json")
    handler.setStream(out)  # type: ignore[attr-defined]
    logger = logging.getLogger("tests.json_logs")
    logger.addHandler(handler)
    logger.propagate = False
    token = logs.bind(logs.RequestTag("req-1", "teams"))
    try:
        try:
            raise ValueError(f"INSERT ... VALUES ('{MARKER}')")
        except ValueError:
            logger.exception("saving a turn failed", extra={"note": MARKER})
    finally:
        logs.reset(token)
        logger.removeHandler(handler)
    [line] = out.getvalue().splitlines()
    record = json.loads(line)
    assert MARKER not in line
    assert record["event"] == "saving a turn failed" and record["error"] == "ValueError"
    assert record["request_id"] == "req-1" and record["platform"] == "teams"
    assert any("test_an_exception_is_logged" in where for where in record["where"])
    assert set(record) == {*logs.KEYS, "error", "where"}


@pytest.mark.issue(26, 5)
def test_a_run_that_cannot_start_says_why_in_json_too(tmp_path):
    """The container's bot started before its database: the reason is a JSON line, not a
    plain 'Error:' line among the JSON a collector reads."""
    env = {
        **os.environ,
        **dict.fromkeys(PLATFORM_SETTINGS, ""),
        "DATABASE_URL": "postgresql+psycopg://schoolbot@127.0.0.1:1/schoolbot",
        "SCHOOLBOT_DATA_DIR": str(tmp_path / "data"),
        "SCHOOLBOT_PORT": str(free_port()),
        "SCHOOLBOT_HOST": "127.0.0.1",
        "SCHOOLBOT_POLICY": "default",
        "SCHOOLBOT_LOG_FORMAT": "json",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),  # this checkout's code
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    records = json_lines(done.stdout + done.stderr)
    [record] = [r for r in records if r["level"] == "ERROR"]
    assert str(record["event"]).startswith("Error: I can't open the database.")
    assert record["logger"] == "bot.cli"
