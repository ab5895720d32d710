"""Slack as a channel: HTTP events or Socket Mode, chosen by which tokens are set."""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.dispatch import Trust
from bot.platforms.base import Platform
from bot.platforms.slack.settings import oauth_configured


def mode(settings: Settings) -> str | None:
    """A bot token plus a way to receive events: signed HTTP requests or a Socket Mode token;
    or, installed per school, the app's credentials and signed HTTP requests."""
    if oauth_configured(settings):
        return "oauth"
    if not settings.slack_bot_token:
        return None
    if settings.slack_app_token:
        return "socket"
    return "http" if settings.slack_signing_secret else None


def _status(settings: Settings, mode: str | None) -> str:
    if mode == "socket":
        return "Slack: Socket Mode (no public URL needed); connecting to Slack."
    if mode == "http":
        return "Slack: HTTP mode, Slack sends events to POST /slack/events."
    if mode == "oauth":
        unused = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", settings.slack_bot_token),
                ("SLACK_APP_TOKEN", settings.slack_app_token),
            )
            if value
        ]
        also = f" {' and '.join(unused)} not used." if unused else ""
        return (
            "Slack: installed per school (OAuth). Make each school's install link with "
            f"`schoolbot slack link --school N`; events arrive at POST /slack/events.{also}"
        )
    return (
        "Slack: not configured (set SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)."
    )


def _mount(app: web.Application, trust: Trust, settings: Settings, mode: str) -> None:
    from bot.platforms.slack.adapter import SlackAdapter

    SlackAdapter(trust, settings).mount(app)


async def _check(settings: Settings, mode: str) -> list[str]:
    from bot.platforms.slack.checks import check_slack

    if mode == "oauth":  # each school's token is checked when its install is used
        return []
    return await check_slack(settings)


SLACK = Platform("slack", "Slack", mode, _status, _mount, _check)
