"""Order and identity of inbound Teams turns: one conversation's turns run one after
another, and each activity has one key its first arrival is recorded under."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator

from botbuilder.schema import Activity


def request_key(activity: Activity) -> str | None:
    """The key an activity's first arrival is recorded under (None: it has no id)."""
    if not activity.id:
        return None
    conversation = hashlib.sha256((activity.conversation.id or "").encode()).hexdigest()
    return f"teams:{activity.id}:{conversation[:16]}"


class ConversationTurns:
    """Turns of one conversation run one after another, in the order they arrived (two
    at once could answer a question twice or out of order); other conversations go ahead."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def waiting(self, conversation: str) -> int:
        """How many turns of this conversation are running or queued."""
        return self._locks.get(conversation, (None, 0))[1]

    @contextlib.asynccontextmanager
    async def one_at_a_time(self, conversation: str) -> AsyncIterator[None]:
        lock, count = self._locks.get(conversation) or (asyncio.Lock(), 0)
        self._locks[conversation] = (lock, count + 1)
        try:
            async with lock:  # asyncio.Lock wakes its waiters first come, first served
                yield
        finally:
            lock, count = self._locks[conversation]
            if count == 1:
                del self._locks[conversation]
            else:
                self._locks[conversation] = (lock, count - 1)
