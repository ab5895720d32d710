"""The chat platforms. This list is the only place that names them all: a new platform
is a new folder with a `platform.py` declaring its Platform (bot.platforms.base), plus one
line here. The order is the order `schoolbot run` reports them in."""

from bot.platforms.base import Platform
from bot.platforms.console.platform import CONSOLE
from bot.platforms.slack.platform import SLACK
from bot.platforms.teams.platform import TEAMS

PLATFORMS: tuple[Platform, ...] = (CONSOLE, SLACK, TEAMS)
PLATFORM_NAMES = tuple(platform.name for platform in PLATFORMS)
PLATFORM_TITLES = {platform.name: platform.title for platform in PLATFORMS}
