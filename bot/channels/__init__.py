"""The chat platforms. This list is the only place that names them all: a new platform
is a new folder with a `channel.py` declaring its Channel (bot.channels.base), plus one
line here. The order is the order `schoolbot run` reports them in."""

from bot.channels.base import Channel
from bot.channels.console.channel import CONSOLE
from bot.channels.slack.channel import SLACK
from bot.channels.teams.channel import TEAMS

CHANNELS: tuple[Channel, ...] = (CONSOLE, SLACK, TEAMS)
PLATFORM_NAMES = tuple(channel.name for channel in CHANNELS)
PLATFORM_TITLES = {channel.name: channel.title for channel in CHANNELS}
