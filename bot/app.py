"""The bot's one aiohttp server: health check now; Slack and Teams mount their routes here."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import logging

import sqlalchemy as sa
from aiohttp import web

from bot.config import Settings
from bot.services import BotService

SERVICE_KEY = web.AppKey("service", BotService)
log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    try:
        with service.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return web.json_response({"status": "degraded", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok", "school": service.pack.school.name})


def slack_configured(settings: Settings) -> bool:
    """A bot token plus a way to receive events: signed HTTP requests or a Socket Mode token."""
    return bool(
        settings.slack_bot_token and (settings.slack_signing_secret or settings.slack_app_token)
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def teams_mode(settings: Settings) -> str | None:
    """Signed with credentials; anonymous only when asked for and on loopback; else off."""
    if settings.microsoft_app_id and (
        settings.microsoft_app_password or settings.microsoft_app_type.lower() == "userassignedmsi"
    ):
        return "signed"
    if settings.teams_allow_anonymous and _loopback(settings.host):
        return "anonymous"
    return None


def create_app(service: BotService, settings: Settings | None = None) -> web.Application:
    app = web.Application(client_max_size=30 * 1024 * 1024)
    app[SERVICE_KEY] = service
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(_size_thread_pool)
    if settings is not None and slack_configured(settings):
        from bot.channels.slack.adapter import SlackAdapter

        SlackAdapter(service, settings).mount(app)
    if settings is not None:
        from bot import scheduler
        from bot.channels.webhook import CommentHook

        scheduler.mount(app, service, settings.tick_seconds)
        if settings.webhook_secret:
            CommentHook(service, settings.webhook_secret.get_secret_value()).mount(app)
    mode = teams_mode(settings) if settings is not None else None
    if mode is not None:
        from bot.channels.teams.adapter import TeamsAdapter  # botbuilder loads only when used

        TeamsAdapter(service, settings, anonymous=mode == "anonymous").mount(app)  # type: ignore[arg-type]
    elif settings is not None:
        log.info("Teams: off (set MicrosoftAppId and MicrosoftAppPassword to turn it on)")
    return app


async def _size_thread_pool(app: web.Application) -> None:
    """The event loop's default threads are for blocking network calls in libraries
    (botbuilder sends Teams replies from them, each waiting for the connector): plenty, as
    each mostly waits on a socket. Database work has its own threads (BotService.run)."""
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="schoolbot-net")
    )
