"""botbuilder's authentication with our connector path and a cache of verified tokens.

TeamsAuthentication is ConfigurationBotFrameworkAuthentication (botbuilder checks each new
token: signature, issuer, audience, serviceUrl claim, expiry) with three changes:

- the connector factory it hands to turns and proactive sends is our pool's
  (connector.py), and the user-token client is built only if it is ever used;
- a token already verified is kept, keyed by the raw token, until its `exp`. Teams sends
  the same token on many requests; a cache hit still checks, on every request, that the
  token's serviceUrl claim is this activity's serviceUrl and its audience our app id;
- a token signed with a key id botbuilder hasn't seen makes its key lookup raise
  IndexError (so the refresh it means to do never happens). We then refresh the keys once
  (at most once a minute) and verify again; still unknown is a 401;
- botbuilder fetches the OpenID metadata and signing keys with `requests` and no timeout,
  inside the event loop: one slow answer would stall every conversation, and one that never
  comes would stall them for good. The fetch is done with aiohttp and a timeout instead.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

import aiohttp
import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.auth.channel_validation import ChannelValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata

from bot.platforms.teams.connector import ConnectorPool, LazyUserTokenClient

log = logging.getLogger(__name__)
CACHE_SIZE = 2048
KEY_REFRESH_SECONDS = 60.0
METADATA_TIMEOUT = aiohttp.ClientTimeout(total=10)


async def _refresh_without_blocking(metadata: _OpenIdMetadata) -> None:
    """botbuilder's _OpenIdMetadata._refresh, without blocking the loop and with a timeout.

    A failure raises (aiohttp.ClientError or TimeoutError); botbuilder then refuses the
    request, and the keys it had stay as they were.
    """
    async with aiohttp.ClientSession(timeout=METADATA_TIMEOUT) as session:
        async with session.get(metadata.url) as response:
            response.raise_for_status()
            keys_url = (await response.json(content_type=None))["jwks_uri"]
        async with session.get(keys_url) as response:
            response.raise_for_status()
            keys = (await response.json(content_type=None))["keys"]
    metadata.keys = keys
    metadata.last_updated = datetime.now()  # naive local time, as botbuilder compares it


# botbuilder internal: every _OpenIdMetadata (one per metadata URL) refreshes through this.
_OpenIdMetadata._refresh = _refresh_without_blocking


class TeamsAuthentication(ConfigurationBotFrameworkAuthentication):
    def __init__(self, *args: Any, pool: ConnectorPool, app_id: str | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pool, self.app_id = pool, app_id
        self._verified: OrderedDict[str, tuple[float, AuthenticateRequestResult]] = OrderedDict()
        self._last_key_refresh = float("-inf")

    async def authenticate_request(
        self, activity: Activity, auth_header: str | None
    ) -> AuthenticateRequestResult:
        token = _bearer(auth_header)
        if token and (hit := self._cached(token, activity)):
            return hit
        result = await self._verify(activity, auth_header, token)
        result.connector_factory = self.pool.factory(result.connector_factory)
        if token:
            self._keep(token, result)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.pool.factory(super().create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        create = super().create_user_token_client

        async def build() -> UserTokenClient:
            return await create(claims_identity)

        return LazyUserTokenClient(build)

    # --- the verified-token cache ----------------------------------------------------

    def _cached(self, token: str, activity: Activity) -> AuthenticateRequestResult | None:
        entry = self._verified.get(token)
        if entry is None:
            return None
        expires, result = entry
        if expires <= time.time():
            del self._verified[token]
            return None
        claims = result.claims_identity.claims
        if claims.get(ChannelValidation.SERVICE_URL_CLAIM) != activity.service_url:
            raise PermissionError("the serviceUrl claim does not match the activity")
        if not self.app_id or claims.get("aud") != self.app_id:
            raise PermissionError("the token is not for this bot")
        return result

    def _keep(self, token: str, result: AuthenticateRequestResult) -> None:
        claims = result.claims_identity.claims if result.claims_identity else {}
        expires = claims.get("exp")
        # Only channel tokens for our own app id, with a serviceUrl claim and an expiry.
        if not (
            self.app_id
            and claims.get("aud") == self.app_id
            and claims.get(ChannelValidation.SERVICE_URL_CLAIM)
            and isinstance(expires, int | float)
        ):
            return
        self._verified[token] = (float(expires), result)
        while len(self._verified) > CACHE_SIZE:
            self._verified.popitem(last=False)

    # --- botbuilder's check, with the key refresh it misses -----------------------------

    async def _verify(
        self, activity: Activity, auth_header: str | None, token: str | None
    ) -> AuthenticateRequestResult:
        try:
            return await super().authenticate_request(activity, auth_header)
        except IndexError:  # botbuilder's _OpenIdMetadata._find: the key id is unknown
            if not token or not await self._refresh_keys(token):
                raise PermissionError("unknown signing key") from None
        try:
            return await super().authenticate_request(activity, auth_header)
        except IndexError:
            raise PermissionError("unknown signing key") from None

    async def _refresh_keys(self, token: str) -> bool:
        now = time.monotonic()
        if now - self._last_key_refresh < KEY_REFRESH_SECONDS:
            return False
        self._last_key_refresh = now
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        # botbuilder internal: JwtTokenExtractor keeps one _OpenIdMetadata per metadata URL
        # in `metadataCache`, with the keys in `.keys` and an async `_refresh()`.
        refreshed = False
        for metadata in list(JwtTokenExtractor.metadataCache.values()):
            if any(key.get("kid") == kid for key in metadata.keys):
                continue
            try:
                await metadata._refresh()
                refreshed = True
            except Exception as exc:  # network or HTTP errors: the keys stay as they were
                log.warning("Teams: couldn't refresh the signing keys: %s", type(exc).__name__)
        if refreshed:
            log.info("Teams: a token named an unknown signing key; the keys were refreshed")
        return refreshed


def _bearer(auth_header: str | None) -> str | None:
    if not auth_header:
        return None
    scheme, _, token = auth_header.partition(" ")
    return token if scheme == "Bearer" and token else None
