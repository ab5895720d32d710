"""What every chat platform provides, so the server, the CLI and the composition root
iterate one list (bot.platforms.PLATFORMS) instead of naming platforms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import click
from aiohttp import web

from bot.config import Settings
from bot.dispatch import Trust


@dataclass(frozen=True)
class Platform:
    """One platform. `name` is the key stored with every person's id ("slack:U123").

    - `mode(settings)`: how it will run ("http", "socket", "signed", ...), None when off;
    - `status(settings, mode)`: the line `schoolbot run` prints about it;
    - `mount(app, service, settings, mode)`: its routes, and its start and stop (send
      loops, connections) as the app's start-up and clean-up hooks;
    - `check(settings, mode)`: a start-up check of its credentials, if it has one;
    - `commands`: its own `schoolbot` command group, if it has one.
    Adapters import their platform's SDK inside `mount`, so an unused one never loads.
    """

    name: str
    title: str
    mode: Callable[[Settings], str | None]
    status: Callable[[Settings, str | None], str]
    mount: Callable[[web.Application, Trust, Settings, str], None] | None = None
    check: Callable[[Settings, str], Awaitable[list[str]]] | None = None
    commands: click.Group | None = None
