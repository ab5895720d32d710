"""One send loop per school, for a platform: every school's queued messages are sent.

Why a loop per school rather than one loop claiming across schools: each loop claims its
school's outbox rows in that school's own session, so sending needs no trust scope (and no
audit entry every two seconds), a school's send goes out with its own Slack token and
channels, and one school whose Slack is disconnected or rate limited holds up no other.
A school added while the bot runs gets its loop when the trust picks the school up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from bot.dispatch import BotService, Trust
from bot.platforms.send_loop import SendLoop

Loop = TypeVar("Loop", bound=SendLoop)


class SchoolSendLoops(Generic[Loop]):
    def __init__(self, trust: Trust, make: Callable[[BotService], Loop]):
        self.make = make
        self.loops: dict[int, Loop] = {s.work.school_id: make(s) for s in trust.services}
        self._running: asyncio.AbstractEventLoop | None = None
        self.started_hooks: list[Callable[[Loop], None]] = []  # e.g. give it the HTTP pool
        trust.added_hooks.append(self._added)

    def for_school(self, school_id: int) -> Loop:
        return self.loops[school_id]

    def kick(self) -> None:
        """Send now rather than at the next poll, in every school (a cheap look each)."""
        for loop in self.loops.values():
            loop.kick()

    async def start(self) -> None:
        self._running = asyncio.get_running_loop()
        for loop in self.loops.values():
            self._started(loop)
            await loop.start()

    async def stop(self) -> None:
        self._running = None
        await asyncio.gather(*(loop.stop() for loop in self.loops.values()))

    def _started(self, loop: Loop) -> None:
        for hook in self.started_hooks:
            hook(loop)

    def _added(self, service: BotService) -> None:
        """A school added while running (called from whichever thread refreshed the trust)."""
        loop = self.make(service)
        self.loops[service.work.school_id] = loop
        if (running := self._running) is not None:

            def begin() -> None:
                self._started(loop)
                running.create_task(loop.start())

            running.call_soon_threadsafe(begin)
