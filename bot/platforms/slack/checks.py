"""At start-up: does Slack accept our tokens, and is the bot in each alert channel?

One line per check, each saying what to fix, so a wrong token or a missing `/invite` is
found when the bot starts rather than when the first alert can't be posted. Membership is
read with `conversations.history` (limit 1), which the manifest's scopes already allow:
Slack answers `not_in_channel` for a public channel the bot isn't in and
`channel_not_found` for a private one (or a wrong id). Nothing read is kept or logged.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

TIMEOUT_SECONDS = 5


class Unreachable(Exception):
    """Slack could not be reached: the network, DNS or a timeout."""


async def _call(client: AsyncWebClient, method: str, **kwargs: object) -> dict | str:
    """The answer's data, or Slack's error code as a string."""
    try:
        response = await getattr(client, method)(**kwargs)
    except SlackApiError as exc:
        return str(exc.response.get("error") or "unknown_error")
    except TimeoutError as exc:
        raise Unreachable("no answer in time") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise Unreachable("can't connect") from exc
    return dict(response.data) if isinstance(response.data, dict) else {}


def _token_line(error: str, setting: str, what: str) -> str:
    return f"Slack: {what} was refused ({error}). Check {setting}."


async def check_slack(settings: Settings, timeout: float = TIMEOUT_SECONDS) -> list[str]:
    """The lines to print; never raises for a Slack or network problem."""
    assert settings.slack_bot_token is not None
    # The SDK's own timeout only applies to sessions it makes itself: give ours one.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            session=session,
        )
        try:
            return await _checks(client, settings)
        except Unreachable as exc:
            return [
                f"Slack: couldn't reach Slack to check the tokens ({exc}). "
                "The bot keeps trying; check the network if alerts don't arrive."
            ]


async def _checks(client: AsyncWebClient, settings: Settings) -> list[str]:
    me = await _call(client, "auth_test")
    if isinstance(me, str):
        return [_token_line(me, "SLACK_BOT_TOKEN", "the bot token")]
    name = f"@{me.get('user') or 'schoolbot'}"
    lines = [f"Slack: signed in as {name} in {me.get('team') or 'your workspace'}."]
    if settings.slack_app_token:
        lines.append(await _app_token(client, settings.slack_app_token.get_secret_value()))
    for label, key, channel in (
        ("DSL", "SLACK_DSL_CHANNEL", settings.slack_dsl_channel),
        ("SLT", "SLACK_SLT_CHANNEL", settings.slack_slt_channel),
    ):
        lines.append(await _channel(client, label, key, channel, name))
    return lines


async def _app_token(client: AsyncWebClient, app_token: str) -> str:
    """Socket Mode's token: asking for a connection address is the only way to test it."""
    answer = await _call(client, "apps_connections_open", app_token=app_token)
    if isinstance(answer, str):
        setting = "SLACK_APP_TOKEN (an xapp- token with connections:write)"
        return _token_line(answer, setting, "the app-level token")
    return "Slack: the app-level token works (Socket Mode)."


async def _channel(
    client: AsyncWebClient, label: str, key: str, channel: str | None, name: str
) -> str:
    if not channel:
        return f"Slack: no {label} channel is set, so {label} alerts can't be posted. Set {key}."
    answer = await _call(client, "conversations_history", channel=channel, limit=1)
    if not isinstance(answer, str):
        return f"Slack: the bot is in the {label} channel."
    if answer == "not_in_channel":
        return f"Slack: the bot is not in the {label} channel {channel}: type /invite {name} there."
    if answer == "channel_not_found":
        return (
            f"Slack: I can't see the {label} channel {channel}. If it is private, type "
            f"/invite {name} there; otherwise check {key} (the id starts with C)."
        )
    if answer == "is_archived":
        return f"Slack: the {label} channel {channel} is archived. Unarchive it or change {key}."
    if answer == "missing_scope":
        return (
            f"Slack: the bot may not read the {label} channel (missing_scope). Reinstall the "
            "app from manifests/slack/manifest.json."
        )
    return f"Slack: couldn't check the {label} channel {channel} ({answer})."
