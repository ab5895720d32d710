"""The real `schoolbot run`, started every way a school can start it, against the local fakes.

Each test launches the command as a process (a free port, a fresh data folder and
database, every platform setting given explicitly so no `.env` is read), sends one
request the way the platform sends it, and sees it handled end to end: the reply at the
fake Slack or the fake Bot Connector, or the webhook's answer. Then it stops the process
with a signal and reads what it printed: the start-up checks' lines, and none of the noise
a school should never see (tracebacks, unclosed sessions, bolt's token warning).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from tests.fakes.fake_connector import FakeConnector
from tests.fakes.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack, blocks_text
from tests.fakes.real_bot import (
    HOOK_SECRET,
    PLATFORM_SETTINGS,
    assert_quiet,
    database_url,
    post_comment,
    real_bot,
    seed_account,
    stopped_cleanly,
)
from tests.fakes.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL, dm_event, signed_headers
from tests.fakes.teams_client import TeamsClient, personal, text_of
from tests.helpers import env_for, free_port, run_until_healthy

FIRST_QUESTION = "Who sent the request?"


# --- every way to start, one request end to end ----------------------------------------


@pytest.mark.issue(10, 2)
async def test_slack_http_mode_and_webhook_on_real_process_handle_a_request_each(
    tmp_path,
):
    seed_account(tmp_path)
    fake = await FakeSlack().start()
    try:
        async with real_bot(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.api_url,
            SLACK_DSL_CHANNEL=DSL_CHANNEL,
            SLACK_SLT_CHANNEL=SLT_CHANNEL,
            SCHOOLBOT_WEBHOOK_SECRET=HOOK_SECRET,
        ) as bot:
            assert await post_comment(bot) == 201
            body = json.dumps(dm_event("ULIVE1", "friend request", "EvLive1"))
            headers = signed_headers(body, "application/json")
            async with bot.http.post(bot.url + "/slack/events", data=body, headers=headers) as r:
                assert r.status == 200
            [reply] = await fake.wait_for("chat.postMessage", channel="DULIVE1", timeout=30)
            assert FIRST_QUESTION in blocks_text(reply)
            await bot.printed("Slack: the bot is in the SLT channel.")
            output = await stopped_cleanly(bot, signal.SIGTERM)
        assert "Slack: HTTP mode" in output
        assert "Slack: signed in as @schoolbot in School." in output
    finally:
        await fake.close()


@pytest.mark.issue(10, 2)
async def test_slack_socket_mode_real_process_acks_the_envelope_and_replies(tmp_path):
    fake = await FakeSlack().start()
    try:
        async with real_bot(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=fake.api_url,
            SLACK_DSL_CHANNEL=DSL_CHANNEL,
            SLACK_SLT_CHANNEL=SLT_CHANNEL,
        ) as bot:
            await fake.wait_for_socket(timeout=30)  # apps.connections.open, then the hello
            envelope = await fake.push(
                "events_api", dm_event("ULIVE2", "friend request", "EvLive2")
            )
            assert (await fake.wait_for_ack(envelope, timeout=30)) == {"envelope_id": envelope}
            [reply] = await fake.wait_for("chat.postMessage", channel="DULIVE2", timeout=30)
            assert FIRST_QUESTION in blocks_text(reply)
            async with bot.http.post(bot.url + "/slack/events", data=b"{}") as response:
                assert response.status == 404  # no public endpoint in Socket Mode
            await bot.printed("Slack: the bot is in the SLT channel.")
            output = await stopped_cleanly(bot, signal.SIGINT)
        assert "Slack: Socket Mode" in output
        assert "Slack: the app-level token works (Socket Mode)." in output
    finally:
        await fake.close()


@pytest.mark.issue(10, 2)
@pytest.mark.issue(25, 4)
async def test_teams_signed_real_process_replies_at_the_connector(tmp_path):
    fake = FakeConnector().start()
    try:
        async with real_bot(tmp_path, **fake.settings) as bot:
            activity = TeamsClient(None, None, fake, None).activity(  # type: ignore[arg-type]
                "alice", "friend request"
            )
            headers = {"Authorization": f"Bearer {fake.sign()}"}
            async with bot.http.post(
                bot.url + "/api/messages", json=activity, headers=headers
            ) as r:
                assert r.status == 200, await r.text()
            [reply] = await fake.wait_for(None, conversation=personal("alice"))
            assert FIRST_QUESTION in text_of(reply)
            async with bot.http.post(bot.url + "/api/messages", json=activity) as unsigned:
                assert unsigned.status == 401
            # Another organisation's Teams: refused after the token, before any turn (25/4).
            activity["id"] = "from-another-tenant"
            activity["channelData"]["tenant"]["id"] = activity["conversation"]["tenantId"] = "t2"
            async with bot.http.post(
                bot.url + "/api/messages", json=activity, headers=headers
            ) as stranger:
                assert stranger.status == 403
            await bot.printed("Teams: activity from tenant t2 refused (403)")
            await bot.printed("Teams: accepts activities from 1 tenant only.")
            await bot.printed("Teams: the app id, password and tenant get a sign-in token.")
            output = await stopped_cleanly(bot, signal.SIGTERM)
        assert "Teams: connected at POST /api/messages." in output
    finally:
        fake.close()


@pytest.mark.issue(10, 2)
async def test_teams_anonymous_and_webhook_off_real_process(tmp_path):
    seed_account(tmp_path)
    fake = FakeConnector(require_token=False).start()
    try:
        async with real_bot(tmp_path, TEAMS_ALLOW_ANONYMOUS="true") as bot:
            assert await post_comment(bot) == 404  # no SCHOOLBOT_WEBHOOK_SECRET: no endpoint
            activity = TeamsClient(None, None, fake, None).activity(  # type: ignore[arg-type]
                "bob", "friend request"
            )
            async with bot.http.post(bot.url + "/api/messages", json=activity) as response:
                assert response.status == 200, await response.text()
            [reply] = await fake.wait_for(None, conversation=personal("bob"))
            assert FIRST_QUESTION in text_of(reply)
            output = await stopped_cleanly(bot, signal.SIGINT)
        assert "WITHOUT sign-in checks" in output
        assert fake.token_requests == 0  # nothing to sign in with, nothing to check
    finally:
        fake.close()


# --- credentials checked at start, one line each ----------------------------------------


@pytest.mark.issue(10, 13)
async def test_run_prints_what_to_fix_for_refused_credentials_and_keeps_running(
    tmp_path,
):
    slack = await FakeSlack().start()
    teams = FakeConnector().start()
    try:
        async with real_bot(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-mistyped",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.api_url,
            SLACK_DSL_CHANNEL=DSL_CHANNEL,
            **{**teams.settings, "MicrosoftAppPassword": "an-old-secret"},
        ) as bot:
            slack_line = "Slack: the bot token was refused (invalid_auth). Check SLACK_BOT_TOKEN."
            teams_line = (
                "Teams: the login service refused the app password (invalid_client). Check "
                "MicrosoftAppPassword: it is the client secret's Value, and it may have expired."
            )
            await bot.printed(slack_line)
            output = await bot.printed(teams_line)
            async with bot.http.get(bot.url + "/healthz") as response:
                assert response.status == 200  # still serving: the network may come back
            await stopped_cleanly(bot, signal.SIGTERM)
        assert output.count("Slack: ") == 2  # "HTTP mode" and the token; no channel noise
        assert "xoxb-mistyped" not in output and "an-old-secret" not in output
    finally:
        teams.close()
        await slack.close()


@pytest.mark.issue(10, 13)
async def test_socket_mode_with_slack_unreachable_starts_and_says_so(tmp_path):
    """No network at start: the server runs, one line says so, retries log no tracebacks."""
    async with real_bot(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # nothing listens there
        SLACK_DSL_CHANNEL=DSL_CHANNEL,
    ) as bot:
        await bot.printed(
            "Slack: couldn't reach Slack to check the tokens (can't connect). The bot keeps "
            "trying; check the network if alerts don't arrive."
        )
        await bot.printed("Failed to connect")  # the Socket Mode client's own retry line
        async with bot.http.get(bot.url + "/healthz") as response:
            assert response.status == 200
        await stopped_cleanly(bot, signal.SIGTERM)


# --- start-up and shutdown without noise ------------------------------------------------


@pytest.mark.issue(10, 14)
def test_port_in_use_is_one_clear_line_and_a_failed_exit(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            **dict.fromkeys(PLATFORM_SETTINGS, ""),
            "DATABASE_URL": database_url(tmp_path),
            "SCHOOLBOT_DATA_DIR": str(tmp_path / "data"),
            "SCHOOLBOT_HOST": "127.0.0.1",
            "SCHOOLBOT_PORT": str(port),
        }
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        f"Error: Port {port} is already in use: stop the other program or set SCHOOLBOT_PORT."
    )
    assert_quiet(done.stdout + done.stderr)


@pytest.mark.issue(10, 14)
async def test_everything_on_starts_and_stops_without_noise(tmp_path):
    """Slack (Socket Mode), Teams and the webhook at once: every session is closed on SIGINT."""
    seed_account(tmp_path)
    slack = await FakeSlack().start()
    teams = FakeConnector().start()
    try:
        async with real_bot(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,  # in the environment, as bolt reads it: no warning
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
            SLACK_DSL_CHANNEL=DSL_CHANNEL,
            SLACK_SLT_CHANNEL=SLT_CHANNEL,
            SCHOOLBOT_WEBHOOK_SECRET=HOOK_SECRET,
            **teams.settings,
        ) as bot:
            await slack.wait_for_socket(timeout=30)
            envelope = await slack.push("events_api", dm_event("ULIVE3", "hello", "EvLive3"))
            await slack.wait_for_ack(envelope, timeout=30)
            await slack.wait_for("chat.postMessage", channel="DULIVE3", timeout=30)
            activity = TeamsClient(None, None, teams, None).activity("carol", "hello")  # type: ignore[arg-type]
            headers = {"Authorization": f"Bearer {teams.sign()}"}
            async with bot.http.post(
                bot.url + "/api/messages", json=activity, headers=headers
            ) as r:
                assert r.status == 200
            assert await post_comment(bot) == 201
            await bot.printed("Teams: the app id, password and tenant get a sign-in token.")
            await bot.printed("Slack: the bot is in the SLT channel.")
            await stopped_cleanly(bot, signal.SIGINT)
    finally:
        teams.close()
        await slack.close()


# --- the roles the escalation needs, named at start --------------------------------------


@pytest.mark.issue(10, 8)
async def test_run_names_each_role_the_escalation_needs_without_a_holder(tmp_path):
    output = await run_until_healthy(env_for(tmp_path), tmp_path)
    assert "Warning: nobody is Designated Safeguarding Lead (dsl)" in output
    assert "Warning: nobody is Deputy DSL (deputy_dsl)" in output
    # DSL, deputy, the SLT team, and the approval stage (the Headteacher): one line each.
    assert output.count("Warning: nobody is") == 4
