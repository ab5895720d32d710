"""The bot's one aiohttp server: health check now; Slack and Teams mount their routes here."""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from bot.config import Settings
from bot.services import BotService

SERVICE_KEY = web.AppKey("service", BotService)


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


def create_app(service: BotService, settings: Settings | None = None) -> web.Application:
    app = web.Application(client_max_size=30 * 1024 * 1024)
    app[SERVICE_KEY] = service
    app.router.add_get("/healthz", healthz)
    if settings is not None and slack_configured(settings):
        from bot.channels.slack.adapter import SlackAdapter

        SlackAdapter(service, settings).mount(app)
    return app
