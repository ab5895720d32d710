"""One click per school: bolt's OAuth flow on our own stores, and the authorize step.

`GET /slack/install?school=N&until=...&sig=...` (a link signed with the app's client
secret, printed by `schoolbot slack link`) starts an install for school N (the school rides
in the one-time OAuth state, kept in `slack_oauth_state`); Slack sends the installer back to
`GET /slack/oauth_redirect`, where bolt exchanges the code (`oauth.v2.access`) and we store
the install under that school. Every incoming request is then authorized here: its
workspace's install gives the school and a bot token, refreshed first if it is near expiry
(token_refresh.py). Only on when SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET
and SLACK_TOKEN_KEYS are all set; otherwise the single SLACK_BOT_TOKEN of one school.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, delete

from bot.config import Settings
from bot.kernel.work import UnitOfWork
from bot.platforms.slack.installations import SlackInstallations, now_utc
from bot.platforms.slack.token_keys import TokenKeys
from bot.platforms.slack.token_refresh import TokenRefresher
from bot.storage.schools import find_school
from bot.storage.tables import SlackOAuthState

log = logging.getLogger(__name__)
DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
STATE_SECONDS = 600  # bolt's default: an install started works for ten minutes
LINK_DAYS = 14  # how long a school's install link (`schoolbot slack link`) works
LINK_REFUSED = (
    "This install link is not valid or has expired. Ask your trust's IT lead for a new one "
    "(schoolbot slack link --school N)."
)
NO_SUCH_SCHOOL = (
    "This install link is for a school that isn't set up in the bot. Ask your trust's IT lead "
    "to check `schoolbot schools list` and send a new link."
)
MANIFEST = Path(__file__).resolve().parents[3] / "manifests" / "slack" / "manifest.json"


class _WithoutOAuthCode(logging.Filter):
    """Bolt logs a failed code exchange with the one-time OAuth code in it; keep it out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "code:" in message:
            record.msg, record.args = re.sub(r"code: \S+", "code: [not logged]", message), None
        return True


logging.getLogger("slack_bolt.oauth.async_oauth_flow").addFilter(_WithoutOAuthCode())


def bot_scopes() -> list[str]:
    """The scopes the manifest asks for, so the install link and the manifest agree."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return list(manifest["oauth_config"]["scopes"]["bot"])


class SchoolStates(AsyncOAuthStateStore):
    """One-time OAuth states, each naming the school the install is for."""

    def __init__(self, work: UnitOfWork):
        self.work = work

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, school_id: int) -> str:
        state = secrets.token_urlsafe(32)
        with self.work.session() as session:
            expires = now_utc() + timedelta(seconds=STATE_SECONDS)
            session.add(SlackOAuthState(state=state, school_id=school_id, expires_at=expires))
            session.commit()
        return state

    def consume(self, state: str) -> int | None:
        """The school of a state that is still valid; it can be used once."""
        with self.work.session() as session:
            row = session.get(SlackOAuthState, state[:64])
            session.exec(delete(SlackOAuthState).where(col(SlackOAuthState.state) == state[:64]))
            session.exec(delete(SlackOAuthState).where(col(SlackOAuthState.expires_at) < now_utc()))
            session.commit()
        if row is None or row.expires_at < now_utc():
            return None
        return row.school_id

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await self.work.run(self.issue, int(kwargs.get("school_id", 1)))

    async def async_consume(self, state: str) -> bool:
        return await self.work.run(self.consume, state) is not None


def link_signature(secret: str, school: int, until: int) -> str:
    return hmac.new(secret.encode(), f"install:{school}:{until}".encode(), "sha256").hexdigest()


def install_link(secret: str, school: int, now: float, days: int = LINK_DAYS) -> str:
    """The path of school `school`'s install link, signed, for `days` days: without the
    signature anyone could install their own workspace into a school."""
    until = int(now) + days * 86_400
    query = urlencode(
        {"school": school, "until": until, "sig": link_signature(secret, school, until)}
    )
    return f"/slack/install?{query}"


def linked_school(secret: str, query: dict[str, Any], now: float) -> int | None:
    """The school a signed, unexpired install link is for; None for any other link."""

    def first(name: str) -> str:
        values = query.get(name) or [""]
        return str(values[0])

    school, until, sig = first("school"), first("until"), first("sig")
    if not (school.isdigit() and until.isdigit() and len(school) < 9 and len(until) < 12):
        return None
    if int(until) < now:
        return None
    expected = link_signature(secret, int(school), int(until))
    return int(school) if hmac.compare_digest(sig.encode(), expected.encode()) else None


class SchoolOAuthFlow(AsyncOAuthFlow):
    """Bolt's flow, with the school carried from the install link to the stored install."""

    states: SchoolStates
    installations: SlackInstallations
    on_installed: Callable[[int], Awaitable[None]] | None = None

    async def handle_installation(self, request: AsyncBoltRequest) -> BoltResponse:
        school = linked_school(self.settings.client_secret, request.query, time.time())
        if school is None:
            return BoltResponse(
                status=403, body=LINK_REFUSED, headers={"Content-Type": "text/plain; charset=utf-8"}
            )
        if not await self.states.work.run(self._exists, school):
            return BoltResponse(
                status=404,
                body=NO_SUCH_SCHOOL,
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        request.context["school_id"] = school
        return await super().handle_installation(request)

    def _exists(self, school: int) -> bool:
        with self.states.work.session() as session:
            return find_school(session, str(school)) is not None

    async def issue_new_state(self, request: AsyncBoltRequest) -> str:
        return await self.states.async_issue(school_id=request.context["school_id"])

    async def handle_callback(self, request: AsyncBoltRequest) -> Any:
        # The state's school is read before bolt consumes the state (once only).
        state = (request.query.get("state") or [""])[0] or ""
        request.context["school_id"] = await self.states.work.run(self._school_of, state)
        return await super().handle_callback(request)

    def _school_of(self, state: str) -> int | None:
        with self.states.work.session() as session:
            row = session.get(SlackOAuthState, state[:64])
            return row.school_id if row else None

    async def store_installation(self, request: AsyncBoltRequest, installation: Installation):
        school = request.context.get("school_id")
        stored = await self.installations.work.run(
            self.installations.save_for_school, installation, school
        )
        log.info("Slack: installed for school %s", stored)
        if self.on_installed is not None:
            await self.on_installed(stored)


class SchoolAuthorize(AsyncAuthorize):
    """Each request's school and bot token, from its workspace's install."""

    def __init__(self, refresher: TokenRefresher):
        self.refresher = refresher

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        try:
            access = await self.refresher.for_workspace(enterprise_id, team_id)
        except DATABASE_DOWN as exc:
            # The request is still taken (acked and kept, as when the database is down in
            # one-school mode); its work finds the token once the database is back.
            log.error("Slack: can't read the install (%s); the request waits", type(exc).__name__)
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)
        if access is None:
            log.warning(
                "Slack: a request from a workspace with no connected install; see "
                "`schoolbot slack status`"
            )
            return None
        context["school_id"] = access.school_id
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_id=access.bot_id,
            bot_user_id=access.bot_user_id,
            bot_token=access.bot_token,
            bot_scopes=access.bot_scopes,
            user_id=user_id,
        )


def build_flow(
    settings: Settings, work: UnitOfWork
) -> tuple[SchoolOAuthFlow, SchoolAuthorize, TokenRefresher]:
    assert settings.slack_client_id and settings.slack_client_secret and settings.slack_token_keys
    client_id = settings.slack_client_id
    client_secret = settings.slack_client_secret.get_secret_value()
    keys = TokenKeys.parse(settings.slack_token_keys.get_secret_value())
    installations = SlackInstallations(work, keys, client_id)
    states = SchoolStates(work)
    refresher = TokenRefresher(
        installations, client_id, client_secret, api_url=settings.slack_api_url
    )
    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=bot_scopes(),
        redirect_uri=settings.slack_redirect_uri,
        authorization_url=settings.slack_authorize_url,
        installation_store=installations,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=refresher.minutes,
    )
    client = AsyncWebClient(base_url=settings.slack_api_url)
    flow = SchoolOAuthFlow(client=client, settings=oauth_settings)
    flow.states, flow.installations = states, installations
    return flow, SchoolAuthorize(refresher), refresher
