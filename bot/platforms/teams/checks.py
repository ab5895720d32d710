"""At start-up: do the app id, password and tenant get a token from the login service?

The same request the bot makes before every reply, made once at start so a mistyped or
expired secret is found now rather than when the first alert can't be sent. The login
service's error code says which setting is wrong; its description is not shown (it
echoes ids), and the secret never is.
"""

from __future__ import annotations

import asyncio

import requests
from botframework.connector.auth import AuthenticationConstants

from bot.config import Settings
from bot.platforms.teams.auth import ClientSecretCredentialFactory, TokenRefused

TIMEOUT_SECONDS = 5
TENANT_ERRORS = ("AADSTS90002", "AADSTS900023")  # tenant not found / not a tenant id


def _refused(exc: TokenRefused) -> str:
    if exc.error == "invalid_client":
        return (
            "Teams: the login service refused the app password (invalid_client). Check "
            "MicrosoftAppPassword: it is the client secret's Value, and it may have expired."
        )
    if exc.error == "unauthorized_client":
        return (
            "Teams: the login service doesn't know this app (unauthorized_client). Check "
            "MicrosoftAppId, and that MicrosoftAppTenantId is the tenant it was created in."
        )
    if any(code in exc.description for code in TENANT_ERRORS):
        return f"Teams: the login service doesn't know the tenant ({exc.error}). Check MicrosoftAppTenantId."
    return (
        f"Teams: the login service refused the credentials ({exc.error}, HTTP {exc.status}). "
        "Check MicrosoftAppId, MicrosoftAppPassword and MicrosoftAppTenantId."
    )


async def check_teams(settings: Settings) -> list[str]:
    """The line to print; never raises for a login or network problem."""
    if settings.microsoft_app_type.lower() == "userassignedmsi":
        return ["Teams: signs in with a managed identity, which can only be checked in Azure."]
    password = settings.microsoft_app_password
    factory = ClientSecretCredentialFactory(
        settings.microsoft_app_id,
        password.get_secret_value() if password else None,
        settings.microsoft_app_tenant_id,
    )
    scope = settings.teams_oauth_scope or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    url = factory.token_url(settings.teams_login_url)
    try:
        await asyncio.to_thread(factory.fetch_token, scope, url, TIMEOUT_SECONDS)
    except TokenRefused as exc:
        return [_refused(exc)]
    except PermissionError as exc:
        timeout = isinstance(exc.__cause__, requests.Timeout)
        why = "no answer in time" if timeout else "can't connect"
        return [
            f"Teams: couldn't reach the login service to check the app id and password ({why}). "
            "The bot keeps trying; check the network if replies don't arrive."
        ]
    return ["Teams: the app id, password and tenant get a sign-in token."]
