"""The Slack start-up check against the fake Slack, answering as Slack does: `invalid_auth`
for a token it doesn't know, `not_in_channel` / `channel_not_found` for channels the bot
isn't in. Also a network that is down and a Slack that never answers.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.config import Settings
from bot.platforms.slack.checks import check_slack
from tests.fakes.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL
from tests.helpers import free_port


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


@pytest.mark.issue(10, 13)
async def test_slack_check_names_the_channel_to_invite_the_bot_to():
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


@pytest.mark.issue(10, 13)
async def test_slack_check_names_the_refused_token():
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


@pytest.mark.issue(10, 13)
async def test_slack_check_with_the_network_down_says_so_and_does_not_raise():
    lines = await slack_lines(f"http://127.0.0.1:{free_port()}/api/")  # nothing listens there
    assert lines == [
        "Slack: couldn't reach Slack to check the tokens (can't connect). The bot keeps "
        "trying; check the network if alerts don't arrive."
    ]


@pytest.mark.issue(10, 13)
async def test_slack_check_gives_up_on_a_silent_slack():
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
