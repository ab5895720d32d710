"""Microsoft Teams as a channel. Nothing here imports botbuilder: the adapter (and with
it botbuilder) loads inside `mount`, only when Teams is configured."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bot.config import Settings
from bot.dispatch import Trust
from bot.platforms.base import Platform
from bot.platforms.teams.commands import teams as teams_commands


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mode(settings: Settings) -> str | None:
    """Signed with credentials; anonymous only when asked for and on loopback; else off."""
    if settings.microsoft_app_id and (
        settings.microsoft_app_password or settings.microsoft_app_type.lower() == "userassignedmsi"
    ):
        return "signed"
    if settings.teams_allow_anonymous and _loopback(settings.host):
        return "anonymous"
    return None


def _status(settings: Settings, mode: str | None) -> str:
    if mode == "signed":
        return "Teams: connected at POST /api/messages."
    if mode == "anonymous":
        return "Teams: at POST /api/messages WITHOUT sign-in checks (TEAMS_ALLOW_ANONYMOUS)."
    return "Teams: not configured (set MicrosoftAppId and MicrosoftAppPassword)."


def _mount(app: web.Application, trust: Trust, settings: Settings, mode: str) -> None:
    from bot.platforms.teams.adapter import TeamsAdapter

    TeamsAdapter(trust, settings, anonymous=mode == "anonymous").mount(app)


async def _check(settings: Settings, mode: str) -> list[str]:
    if mode != "signed":  # anonymous mode has no credentials to check
        return []
    from bot.platforms.teams import button_seal, tenants
    from bot.platforms.teams.checks import check_teams

    lines = [tenants.status_line(settings), button_seal.status_line(settings)]
    return [line for line in lines if line] + await check_teams(settings)


TEAMS = Platform("teams", "Teams", mode, _status, _mount, _check, commands=teams_commands)
