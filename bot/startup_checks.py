"""`schoolbot run` checks the chat platforms' credentials, and the mail server's, as it
starts, one line each.

The checks run in the background once the server is up, so a slow or unreachable
service delays nothing; each is given a few seconds and then reported as unreachable.
They only print: a failed check never stops the bot (the network may come back).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import active_senders
from bot.config import Settings

TIMEOUT_SECONDS = 15
log = logging.getLogger(__name__)


async def _lines(name: str, check: Callable[[], Awaitable[list[str]]]) -> list[str]:
    try:
        return await asyncio.wait_for(check(), TIMEOUT_SECONDS)
    except TimeoutError:
        return [
            f"{name}: no answer within {TIMEOUT_SECONDS} s, so the credentials weren't checked."
        ]
    except Exception as exc:  # a check must never take the bot down
        log.error("%s: the start-up check failed: %s", name, type(exc).__name__)
        return []


async def run_checks(settings: Settings) -> None:
    """Every platform's check at once, printed in the order the banner lists them."""
    checks = [
        _lines(channel.title, functools.partial(channel.check, settings, mode))
        for channel, mode in active_senders(settings)
        if channel.check is not None
    ]
    for lines in await asyncio.gather(*checks):
        for line in lines:
            if settings.log_format == "json":  # a log collector reads nothing but JSON
                log.info("%s", line)
            else:
                print(line, flush=True)


def mount(app: web.Application, settings: Settings) -> None:
    async def lifecycle(_app: web.Application):
        task = asyncio.create_task(run_checks(settings), name="startup-checks")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(lifecycle)
