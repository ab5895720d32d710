"""The real `schoolbot run`, started every way a school can start it, against the local fakes.

Each test launches the command as a process (a free port, a fresh data folder and
database, every platform setting given explicitly so no `.env` is read), sends one
request the way the platform sends it, and sees it handled end to end: the reply at the
fake Slack or the fake Bot Connector, or the webhook's answer. Then it stops the process
with a signal and reads what it printed: the start-up checks' lines, and none of the noise
a school should never see (tracebacks, unclosed sessions, bolt's token warning).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.channels.slack.checks import check_slack
from bot.channels.teams.auth import ClientSecretCredentialFactory
from bot.channels.teams.checks import check_teams
from bot.channels.webhook import PATH as HOOK_PATH
from bot.channels.webhook import signature as hook_signature
from bot.config import Settings
from bot.storage import db
from tests.conftest import FakeClock, make_service
from tests.fake_connector import FakeConnector
from tests.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack, blocks_text
from tests.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL, dm_event, signed_headers
from tests.teams_client import TeamsClient, personal, text_of
from tests.test_multi_instance import free_port

FIRST_QUESTION = "Who sent the request?"
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
    "SCHOOLBOT_WEBHOOK_SECRET",
)
HOOK_SECRET = "test-webhook-secret-not-real"


class RealBot:
    """One `schoolbot run` process and what it printed."""

    def __init__(self, tmp_path: Path, http: aiohttp.ClientSession, env: dict[str, str]):
        self.http = http
        self.port = free_port()
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
    service.register_add(
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


# --- point 2: every way to start, one request end to end -------------------------------


async def test_golive_02_slack_http_mode_and_webhook_on_real_process_handle_a_request_each(
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
            body = json.dumps(dm_event("ULIVE1", "a pupil sent me a friend request", "EvLive1"))
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


async def test_golive_02_slack_socket_mode_real_process_acks_the_envelope_and_replies(tmp_path):
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
                "events_api", dm_event("ULIVE2", "a pupil sent me a friend request", "EvLive2")
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


async def test_golive_02_teams_signed_real_process_replies_at_the_connector(tmp_path):
    fake = FakeConnector().start()
    try:
        async with real_bot(tmp_path, **fake.settings) as bot:
            activity = TeamsClient(None, None, fake, None).activity(  # type: ignore[arg-type]
                "alice", "a pupil sent me a friend request"
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
            await bot.printed("Teams: the app id, password and tenant get a sign-in token.")
            output = await stopped_cleanly(bot, signal.SIGTERM)
        assert "Teams: connected at POST /api/messages." in output
    finally:
        fake.close()


async def test_golive_02_teams_anonymous_and_webhook_off_real_process(tmp_path):
    seed_account(tmp_path)
    fake = FakeConnector(require_token=False).start()
    try:
        async with real_bot(tmp_path, TEAMS_ALLOW_ANONYMOUS="true") as bot:
            assert await post_comment(bot) == 404  # no SCHOOLBOT_WEBHOOK_SECRET: no endpoint
            activity = TeamsClient(None, None, fake, None).activity(  # type: ignore[arg-type]
                "bob", "a pupil sent me a friend request"
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


# --- point 13: credentials checked at start, one line each ------------------------------


async def test_golive_13_run_prints_what_to_fix_for_refused_credentials_and_keeps_running(
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


async def test_golive_13_socket_mode_with_slack_unreachable_starts_and_says_so(tmp_path):
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


async def slack_lines(fake_api_url: str, timeout: float = 5, **settings: str) -> list[str]:
    values = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_api_url,
        "SLACK_DSL_CHANNEL": DSL_CHANNEL,
        "SLACK_SLT_CHANNEL": SLT_CHANNEL,
        "SLACK_APP_TOKEN": "",
        **settings,
    }
    return await check_slack(Settings(_env_file=None, **values), timeout)


async def test_golive_13_slack_check_names_the_channel_to_invite_the_bot_to():
    fake = await FakeSlack(outside_public={DSL_CHANNEL}, outside_private={SLT_CHANNEL}).start()
    try:
        lines = await slack_lines(fake.api_url, SLACK_APP_TOKEN=APP_TOKEN)
    finally:
        await fake.close()
    assert lines == [
        "Slack: signed in as @schoolbot in School.",
        "Slack: the app-level token works (Socket Mode).",
        "Slack: the bot is not in the DSL channel CDSL: type /invite @schoolbot there.",
        "Slack: I can't see the SLT channel CSLT. If it is private, type /invite @schoolbot "
        "there; otherwise check SLACK_SLT_CHANNEL (the id starts with C).",
    ]


async def test_golive_13_slack_check_names_the_refused_token():
    fake = await FakeSlack().start()
    try:
        bot_token = await slack_lines(fake.api_url, SLACK_BOT_TOKEN="xoxb-revoked")
        app_token = await slack_lines(
            fake.api_url, SLACK_APP_TOKEN="xapp-mistyped", SLACK_SLT_CHANNEL=""
        )
    finally:
        await fake.close()
    assert bot_token == ["Slack: the bot token was refused (invalid_auth). Check SLACK_BOT_TOKEN."]
    assert app_token == [
        "Slack: signed in as @schoolbot in School.",
        "Slack: the app-level token was refused (invalid_auth). Check SLACK_APP_TOKEN "
        "(an xapp- token with connections:write).",
        "Slack: the bot is in the DSL channel.",
        "Slack: no SLT channel is set, so SLT alerts can't be posted. Set SLACK_SLT_CHANNEL.",
    ]


async def test_golive_13_slack_check_with_the_network_down_says_so_and_does_not_raise():
    lines = await slack_lines(f"http://127.0.0.1:{free_port()}/api/")  # nothing listens there
    assert lines == [
        "Slack: couldn't reach Slack to check the tokens (can't connect). The bot keeps "
        "trying; check the network if alerts don't arrive."
    ]


async def test_golive_13_slack_check_gives_up_on_a_silent_slack():
    silent = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)  # never answers
    port = silent.sockets[0].getsockname()[1]
    try:
        lines = await slack_lines(f"http://127.0.0.1:{port}/api/", timeout=0.2)
    finally:
        silent.close()
    assert lines == [
        "Slack: couldn't reach Slack to check the tokens (no answer in time). The bot keeps "
        "trying; check the network if alerts don't arrive."
    ]


def teams_lines(fake: FakeConnector, **overrides: str) -> list[str]:
    return asyncio.run(check_teams(Settings(_env_file=None, **{**fake.settings, **overrides})))


def test_golive_13_teams_check_says_which_setting_the_login_service_refused():
    fake = FakeConnector().start()
    try:
        good = teams_lines(fake)
        password = teams_lines(fake, MicrosoftAppPassword="expired-secret")
        app_id = teams_lines(fake, MicrosoftAppId="11111111-0000-4000-8000-000000000000")
        tenant = teams_lines(fake, ToChannelFromBotLoginUrl=f"{fake.base_url}/another-school")
        down = teams_lines(fake, ToChannelFromBotLoginUrl=f"http://127.0.0.1:{free_port()}/t")
    finally:
        fake.close()
    assert good == ["Teams: the app id, password and tenant get a sign-in token."]
    assert password == [
        "Teams: the login service refused the app password (invalid_client). Check "
        "MicrosoftAppPassword: it is the client secret's Value, and it may have expired."
    ]
    assert app_id == [
        "Teams: the login service doesn't know this app (unauthorized_client). Check "
        "MicrosoftAppId, and that MicrosoftAppTenantId is the tenant it was created in."
    ]
    assert tenant == [
        "Teams: the login service doesn't know the tenant (invalid_request). "
        "Check MicrosoftAppTenantId."
    ]
    assert down == [
        "Teams: couldn't reach the login service to check the app id and password "
        "(can't connect). The bot keeps trying; check the network if replies don't arrive."
    ]


def test_golive_13_single_tenant_check_asks_the_tenants_own_login_service():
    """With the public login URL, a single-tenant bot's token comes from its tenant."""
    factory = ClientSecretCredentialFactory("a", "p", "t1")
    assert factory.token_url(None) == "https://login.microsoftonline.com/t1/oauth2/v2.0/token"


# --- point 14: start-up and shutdown without noise --------------------------------------


def test_golive_14_port_in_use_is_one_clear_line_and_a_failed_exit(tmp_path):
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


async def test_golive_14_everything_on_starts_and_stops_without_noise(tmp_path):
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
