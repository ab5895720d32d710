"""Slack for several schools: the install routes, each request's and each send's own bot
token, and what happens when a school uninstalls the app or revokes its tokens.

When a school is disconnected (`app_uninstalled`, or `tokens_revoked` naming the bot's
token) its tokens are wiped, its row is marked disconnected, and its queued messages are
held in the outbox (not sent, not lost) until the app is installed again from its install
link, when they go at once. Who must act is told where they look: the Headteacher by
email (when email is on), since they are the one to get the school's Slack admin to
reinstall; the trust's IT lead by an ERROR line in the log naming the school and what to
do, and `schoolbot slack status` listing every school's connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.domain.messages import Message
from bot.kernel.core import Kernel
from bot.platforms.slack.installations import BotAccess
from bot.platforms.slack.oauth import SchoolAuthorize, SchoolOAuthFlow, build_flow
from bot.platforms.slack.sends import HELD, Route
from bot.platforms.slack.token_refresh import TokenRefresher
from bot.storage import repository as repo

log = logging.getLogger(__name__)
PLATFORM = "slack"


def workspace_of(context: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Which workspace a request came from, for its work after the ack, which finds that
    workspace's school and bot token when it runs (never a token in the payload). An
    org-wide install's events name their workspace only at the top (`team_id`) or on the
    user, not in `authorizations`, where bolt looks."""
    user = body.get("user")
    team = (
        context.get("team_id")
        or body.get("team_id")
        or (user.get("team_id") if isinstance(user, dict) else None)
    )
    # The school bolt's authorize step found (absent while the database is down): a
    # fallback for the work if the install is gone by the time it runs.
    return {
        "team": team,
        "enterprise": context.get("enterprise_id"),
        "school": context.get("school_id"),
    }


class SlackSchools:
    def __init__(
        self,
        kernel: Kernel,
        *,
        flow: SchoolOAuthFlow,
        authorize: SchoolAuthorize,
        refresher: TokenRefresher,
        api_url: str,
        channels: dict[str, str | None],
        kernel_for: Callable[[int], Kernel] | None = None,
    ):
        self.kernel, self.flow, self.authorize = kernel, flow, authorize
        # Each school's own kernel (its outbox, its Headteacher); the first's by default.
        self.kernel_for = kernel_for or (lambda _school: kernel)
        self.refresher, self.api_url, self.channels = refresher, api_url, channels
        self.http: aiohttp.ClientSession | None = None
        self.installed_hooks: list[Any] = []  # called with the school after an install
        flow.on_installed = self._installed

    @classmethod
    def build(
        cls,
        kernel: Kernel,
        settings: Settings,
        channels: dict[str, str | None],
        *,
        kernel_for: Callable[[int], Kernel] | None = None,
    ) -> tuple[SlackSchools, AsyncApp]:
        """The schools, and bolt's app with the OAuth flow and our authorize step. Requests
        are verified by our door before bolt sees them, as in one-school mode."""
        flow, authorize, refresher = build_flow(settings, kernel.work)
        secret = settings.slack_signing_secret
        app = AsyncApp(
            signing_secret=secret.get_secret_value() if secret else "",
            oauth_flow=flow,
            authorize=authorize,  # type: ignore[arg-type]  # an AsyncAuthorize is taken as it is
            process_before_response=True,
            request_verification_enabled=False,
        )
        schools = cls(
            kernel,
            flow=flow,
            authorize=authorize,
            refresher=refresher,
            api_url=settings.slack_api_url,
            channels=channels,
            kernel_for=kernel_for,
        )
        return schools, app

    def client_for(self, token: str | None, *, retry: bool = True) -> AsyncWebClient:
        """A Web API client with one bot token, on the shared connection pool."""
        client = AsyncWebClient(token=token, base_url=self.api_url, session=self.http)
        if retry:
            client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        return client

    async def access_for(self, payload: dict[str, Any]) -> BotAccess | None:
        """A queued request's school and bot token (refreshed if due), or None when it was
        disconnected meanwhile: its replies then wait in the outbox."""
        team, enterprise = payload.get("team"), payload.get("enterprise")
        access = await self.refresher.for_workspace(enterprise, team)
        if access is not None:
            log.info("Slack: a request from workspace %s, school %s", team, access.school_id)
        return access

    async def route(self, school_id: int) -> Route | None:
        """The send loop's way to a school: None while it is disconnected."""
        access = await self.refresher.for_school(school_id)
        if access is None:
            return None
        channels = {
            "dsl": access.dsl_channel or self.channels.get("dsl"),
            "slt": access.slt_channel or self.channels.get("slt"),
        }
        return Route(self.client_for(access.bot_token, retry=False), channels)

    # --- HTTP -----------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        settings = self.flow.settings
        app.router.add_get(settings.install_path, self._install)
        app.router.add_get(settings.redirect_uri_path, self._redirect)

    async def _install(self, request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self.flow.handle_installation(bolt_request))

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self.flow.handle_callback(bolt_request))

    async def _installed(self, school_id: int) -> None:
        kernel = self.kernel_for(school_id)
        resumed = await kernel.work.run(kernel.outbox.resume, PLATFORM, HELD)
        log.warning(
            "Slack: school %s is connected; %d held message(s) will be sent now",
            school_id,
            resumed,
        )
        for hook in self.installed_hooks:
            hook()

    # --- uninstalls -----------------------------------------------------------------------

    def register(self, app: AsyncApp) -> None:
        app.event("app_uninstalled")(self._on_uninstalled)
        app.event("tokens_revoked")(self._on_tokens_revoked)

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        await self._disconnect(body, "uninstalled", bot=True)

    async def _on_tokens_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        tokens = event.get("tokens") or {}
        if tokens.get("bot"):
            await self._disconnect(body, "tokens revoked", bot=True)
        elif tokens.get("oauth"):  # only installers' own tokens: the bot still works
            await self._disconnect(body, "user tokens revoked", bot=False)

    async def _disconnect(self, body: dict[str, Any], reason: str, *, bot: bool) -> None:
        enterprise = body.get("enterprise_id")
        team = body.get("team_id")
        installations = self.refresher.installations
        school = await self.kernel.work.run(
            installations.disconnect, enterprise, team, reason, bot=bot
        )
        if school is None or not bot:
            return
        told = await self.kernel_for(school).work.run(self._tell_the_head, school, reason)
        log.error(
            "Slack: school %s is DISCONNECTED (%s). Its alerts are held, not lost, until the "
            "app is installed again: send its Slack admin a new install link (schoolbot "
            "slack link --school %s). `schoolbot slack status` lists every school.",
            school,
            reason,
            school,
        )
        if told:
            log.warning("Slack: the Headteacher was emailed about school %s (%d)", school, told)

    def _tell_the_head(self, school: int, reason: str) -> int:
        """An email to the Headteacher (and whoever else holds the pack's head role with an
        address), when email is on: the one who must get the school's Slack admin to act,
        and who may not read the server's log."""
        kernel = self.kernel_for(school)
        role = kernel.pack.head_role
        if not kernel.outbox.emails or role is None:
            return 0
        message = Message(
            f"schoolbot can no longer post in your school's Slack ({reason}). Safeguarding "
            "alerts for your school are being held, not lost. Please ask your school's Slack "
            "admin to install schoolbot again, with a new install link from your trust's IT "
            "lead; everything held is then sent at once.",
            title="schoolbot: Slack is disconnected",
            fields=(("School", str(school)),),
            urgent=True,
        )
        with kernel.session() as session:
            heads = [h for h in repo.holders(session, [role]) if h.email]
            for head in heads:
                kernel.outbox.email(session, f"{head.platform}:{head.user_id}", message, None)
            session.commit()
        return len(heads)
