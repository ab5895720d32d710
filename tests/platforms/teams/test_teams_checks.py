"""The Teams start-up check against the fake connector's login service, answering as Azure
AD does: `invalid_client`, `unauthorized_client`, an unknown tenant, and a network that is
down."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import Settings
from bot.platforms.teams.auth import ClientSecretCredentialFactory
from bot.platforms.teams.checks import check_teams
from tests.fakes.fake_connector import FakeConnector
from tests.helpers import free_port


def teams_lines(fake: FakeConnector, **overrides: str) -> list[str]:
    return asyncio.run(check_teams(Settings(_env_file=None, **{**fake.settings, **overrides})))


@pytest.mark.issue(10, 13)
def test_teams_check_says_which_setting_the_login_service_refused():
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


@pytest.mark.issue(10, 13)
def test_single_tenant_check_asks_the_tenants_own_login_service():
    """With the public login URL, a single-tenant bot's token comes from its tenant."""
    factory = ClientSecretCredentialFactory("a", "p", "t1")
    assert factory.token_url(None) == "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
