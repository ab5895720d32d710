"""The start-up credential checks against the local fakes, answering as the real services do.

Slack: `invalid_auth` for a token it doesn't know, `not_in_channel` / `channel_not_found`
for channels the bot isn't in; Azure AD: `invalid_client`, `unauthorized_client`, an
unknown tenant. Also a network that is down and a service that never answers.
"""

from __future__ import annotations

import asyncio

from bot.config import Settings
from bot.platforms.slack.checks import check_slack
from bot.platforms.teams.auth import ClientSecretCredentialFactory
from bot.platforms.teams.checks import check_teams
from tests.fakes.fake_connector import FakeConnector
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
