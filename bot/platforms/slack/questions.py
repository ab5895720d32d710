"""The question messages waiting for an answer in each person's DM, so that a question
answered by typing loses its buttons too, not only one answered by pressing them.

Slack tells us where a pressed button was, but not which message a typed answer answers:
so each question posted is kept (channel, ts, its words and blocks), under the person's
own key, until its question is answered. Only the latest question's messages are kept
(a question asked twice, after an answer it couldn't read, has two): every earlier one was
answered, or its buttons say "already answered" when pressed.
"""

from __future__ import annotations

from typing import Any

from bot.kernel.core import Kernel
from bot.storage.tables import ConversationRef

PLATFORM = "slack"
KEPT_PER_QUESTION = 5  # copies of one question kept (asked again after unreadable answers)


def _key(user: str) -> str:
    return f"question:{user}"


def keep(kernel: Kernel, user: str, step: str, posted: dict[str, Any]) -> None:
    """Remember a question message just posted: `posted` has channel, ts, text, blocks."""
    with kernel.session() as session:
        row = session.get(ConversationRef, (session.school_id, PLATFORM, _key(user)))
        kept: list[dict[str, Any]] = []
        if row is not None and row.reference.get("step") == step:
            kept = list(row.reference.get("messages") or [])[-(KEPT_PER_QUESTION - 1) :]
        if row is None:
            row = ConversationRef(platform=PLATFORM, key=_key(user), updated_at=kernel.now())
        row.reference = {"step": step, "messages": [*kept, posted]}
        row.updated_at = kernel.now()
        session.add(row)
        session.commit()


def take(kernel: Kernel, user: str, step: str) -> list[dict[str, Any]]:
    """The messages that asked `step`, forgotten now that it is answered ([] if none)."""
    with kernel.session() as session:
        row = session.get(ConversationRef, (session.school_id, PLATFORM, _key(user)))
        if row is None or row.reference.get("step") != step:
            return []
        messages = list(row.reference.get("messages") or [])
        session.delete(row)
        session.commit()
        return messages
