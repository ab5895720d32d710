"""The terminal chat: always on, nothing to mount (it talks to the same database)."""

from bot.config import Settings
from bot.platforms.base import Platform


def _status(settings: Settings, mode: str | None) -> str:
    return "Try it in a terminal, no Slack or Teams needed:  .venv/bin/schoolbot chat --as alice"


CONSOLE = Platform("console", "Terminal", lambda settings: "terminal", _status)
