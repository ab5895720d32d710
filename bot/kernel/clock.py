"""The time, and how it reads in the school's timezone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock:
    """`now` is replaceable so tests and benchmarks can fix the time."""

    def __init__(self, timezone: str, now: Callable[[], datetime] = utcnow):
        self.zone = ZoneInfo(timezone)
        self.source = now

    def now(self) -> datetime:
        return self.source()

    def local_now(self) -> datetime:
        return self.source().astimezone(self.zone)

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M")
