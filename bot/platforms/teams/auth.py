"""Bot Framework authentication from our settings: inbound JWTs and outbound bot tokens.

Inbound tokens are checked by botbuilder's own validation (OpenID metadata, signing keys,
issuer, audience = our app id, serviceUrl claim). Outbound calls get a token with a plain
OAuth 2 client-credentials request to the login URL, cached until shortly before it
expires; this is what MSAL does for a bot, minus its insistence on https authorities, so
the same code runs against Azure AD and the tests' local fake. Secrets are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import requests
from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from msrest.authentication import Authentication
from msrest.universal_http.requests import ClientRetryPolicy

from bot.config import Settings
from bot.platforms.teams.connector import ConnectorPool
from bot.platforms.teams.verify import TeamsAuthentication

log = logging.getLogger(__name__)
LOGIN_PREFIX = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX.rstrip("/")
DEFAULT_TENANT = AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT  # multi-tenant bots
PUBLIC_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
EARLY_REFRESH_SECONDS = 300

# botbuilder builds two msrest clients per turn, and each scans a 500-item *list* 999
# times to pick retryable codes (about 6 ms of CPU). The same codes as a frozenset make
# that microseconds; the behaviour is unchanged.
ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


@dataclass
class _BotConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TYPE: str
    APP_TENANTID: str | None
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None
    OAUTH_URL: str | None


class _ClientSecretCredentials(AppCredentials):
    def __init__(self, factory: ClientSecretCredentialFactory, scope: str, token_url: str):
        super().__init__(app_id=factory.app_id, oauth_scope=scope)
        self._factory, self._token_url = factory, token_url

    def get_access_token(self, force_refresh: bool = False) -> str:  # noqa: FBT001, FBT002 - botbuilder's signature
        return self._factory.token(self.oauth_scope, self._token_url, force=force_refresh)

    def cached_token(self) -> str | None:
        """The token if one is cached and fresh (no blocking call), else None."""
        return self._factory.cached(self.oauth_scope, self._token_url)


class ClientSecretCredentialFactory(ServiceClientCredentialsFactory):
    """Credentials for our one app id; tokens shared by every connector client."""

    def __init__(self, app_id: str | None, password: str | None, tenant_id: str | None):
        self.app_id, self._password, self._tenant = app_id, password, tenant_id
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self.app_id) and app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self,
        app_id: str,
        oauth_scope: str,
        login_endpoint: str,
        validate_authority: bool,  # noqa: FBT001 - botbuilder's signature
    ) -> Authentication:
        if not self.app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self.app_id:
            raise PermissionError("Invalid app id")
        return _ClientSecretCredentials(
            self, oauth_scope or PUBLIC_SCOPE, self.token_url(login_endpoint)
        )

    def token_url(self, login_endpoint: str | None) -> str:
        login = (login_endpoint or LOGIN_PREFIX).rstrip("/")
        if login.lower() in (LOGIN_PREFIX, f"{LOGIN_PREFIX}/{DEFAULT_TENANT}"):
            login = f"{LOGIN_PREFIX}/{self._tenant or DEFAULT_TENANT}"  # single-tenant bots
        return login + "/oauth2/v2.0/token"

    def cached(self, scope: str, token_url: str) -> str | None:
        cached = self._tokens.get((scope, token_url))
        return cached[0] if cached and cached[1] > time.monotonic() else None

    def token(self, scope: str, token_url: str, *, force: bool = False) -> str:
        key = (scope, token_url)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and not force and cached[1] > time.monotonic():
                return cached[0]
            try:
                token, lifetime = self.fetch_token(scope, token_url)
            except TokenRefused as exc:
                # The error code says what is wrong (e.g. invalid_client: wrong password).
                log.error(
                    "Teams: the login service refused our app id/password: %s (HTTP %s)",
                    exc.error,
                    exc.status,
                )
                raise
            except PermissionError as exc:
                log.error("Teams: can't get a bot token: %s", exc)
                raise
            expires = time.monotonic() + max(lifetime - EARLY_REFRESH_SECONDS, lifetime / 2)
            self._tokens[key] = (token, expires)
            return token

    def fetch_token(self, scope: str, token_url: str, timeout: float = 15) -> tuple[str, float]:
        """(token, lifetime in seconds) by OAuth 2 client credentials; nothing is logged.

        Raises TokenRefused when the login service answers with an error, and
        PermissionError when it can't be reached."""
        scope_param = scope if scope.endswith("/.default") else scope + "/.default"
        try:
            response = requests.post(
                token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.app_id,
                    "client_secret": self._password,
                    "scope": scope_param,
                },
                timeout=timeout,
            )
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise PermissionError(type(exc).__name__) from exc
        if response.status_code != 200 or "access_token" not in body:
            raise TokenRefused(
                str(body.get("error", "unknown")),
                response.status_code,
                str(body.get("error_description") or ""),
            )
        return body["access_token"], float(body.get("expires_in", 3600))


class TokenRefused(PermissionError):
    """The login service's answer: its error code (invalid_client, ...) and HTTP status."""

    def __init__(self, error: str, status: int, description: str = ""):
        super().__init__(f"bot token refused: {error}")
        self.error, self.status, self.description = error, status, description


def build_authentication(
    settings: Settings,
    session: Callable[[], aiohttp.ClientSession],
    *,
    anonymous: bool = False,
) -> tuple[TeamsAuthentication, str | None]:
    """(authentication, app id); anonymous mode has no app id and accepts unsigned requests.
    Connector calls go over `session` (the app's one aiohttp session)."""
    app_id = None if anonymous else settings.microsoft_app_id
    password = (
        settings.microsoft_app_password.get_secret_value()
        if settings.microsoft_app_password and not anonymous
        else None
    )
    config = _BotConfig(
        APP_ID=app_id,
        APP_PASSWORD=password,
        APP_TYPE=settings.microsoft_app_type,
        APP_TENANTID=settings.microsoft_app_tenant_id,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.teams_openid_metadata_url,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=settings.teams_token_issuer,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=settings.teams_login_url,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=settings.teams_oauth_scope,
        OAUTH_URL=settings.teams_oauth_url,
    )
    factory: ServiceClientCredentialsFactory
    if settings.microsoft_app_type.lower() == "userassignedmsi" and not anonymous:
        factory = ConfigurationServiceClientCredentialFactory(config)  # Azure managed identity
    else:
        factory = ClientSecretCredentialFactory(app_id, password, settings.microsoft_app_tenant_id)
    authentication = TeamsAuthentication(
        config, credentials_factory=factory, pool=ConnectorPool(session), app_id=app_id
    )
    return authentication, app_id
