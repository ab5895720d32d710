"""Which Slack settings are on: one school's bot token, or installed per school."""

from __future__ import annotations

from bot.config import Settings


def oauth_configured(settings: Settings) -> bool:
    """Installed per school (one click each) rather than one school's bot token."""
    return bool(
        settings.slack_client_id
        and settings.slack_client_secret
        and settings.slack_signing_secret
        and settings.slack_token_keys
    )
