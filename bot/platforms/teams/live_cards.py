"""Question cards in a personal chat stay live until answered, then show the answer.

When the bot asks a question with choices, it keeps the card it sent (by activity id). When
a choice on that card is pressed, the card is updated in place (update_activity on the
press's replyToId) to show the question and the answer, without buttons, as in Slack. The
pressed choice is found by Adaptive Card rules alone (the button whose data the press
carries, or the picked value of a ChoiceSet), so this doesn't depend on what the data says.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botframework.connector.models import ErrorResponseException

from bot.kernel.core import Kernel
from bot.platforms.teams import store
from bot.platforms.teams.sends import ADAPTIVE, http_status

log = logging.getLogger(__name__)
KEEP = timedelta(days=30)  # a question left unanswered this long has gone stale anyway
PRUNE_EVERY = timedelta(hours=1)  # a person's stale cards are looked for at most this often
PRUNED_USERS = 10_000  # people whose last look is remembered (per adapter)
WRITE_DELAY = 0.05  # seconds a new card waits to be written with the others sent meanwhile


def _key(user: str, activity_id: str) -> str:
    return f"card:{user}:{hashlib.sha256(activity_id.encode()).hexdigest()[:24]}"


class QuestionCards:
    """The question cards this process keeps, written to the database a moment after they
    are sent, many in one transaction: a commit for every card was a third of a turn's
    database work. A press is matched from memory first, so the wait is never seen. A crash
    inside it loses only the "Your answer" update of those cards: the conversation itself
    is in the database, and a second press is answered as already answered."""

    def __init__(self, kernel: Kernel, delay: float = WRITE_DELAY):
        self.kernel = kernel
        self.delay = delay
        self.waiting: dict[str, dict[str, Any]] = {}  # key -> {"card": ...}, not yet written
        self.writing: dict[str, dict[str, Any]] = {}  # the batch being written now
        self.owners: set[str] = set()  # whose cards are waiting
        self.pruned: dict[str, datetime] = {}  # when each person's stale cards were looked for
        self._writer: asyncio.Task[None] | None = None

    def keep(self, user: str, activity_id: str, card: dict[str, Any]) -> None:
        self.waiting[_key(user, activity_id)] = {"card": card}
        self.owners.add(user)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def take(self, user: str, activity_id: str) -> dict[str, Any] | None:
        """The kept card, forgotten (it is being answered); None if it isn't kept."""
        key = _key(user, activity_id)
        if key in self.waiting:
            return self.waiting.pop(key)  # never written
        if key in self.writing and self._writer is not None:
            await asyncio.shield(self._writer)  # let its write finish, then take it back
        return await self.kernel.work.run(store.take, self.kernel, key)

    async def _write_soon(self) -> None:
        await asyncio.sleep(self.delay)
        await self.write()

    async def write(self) -> None:
        """Write every waiting card; a person's stale cards go in the same transaction, at
        most hourly (that look scans the table)."""
        while self.waiting:
            batch, owners = self.waiting, self.owners
            self.waiting, self.owners, self.writing = {}, set(), batch
            now = self.kernel.now()
            due = [user for user in owners if self._prune_due(user, now)]
            stale = [(f"card:{user}:", now - KEEP) for user in due]
            try:
                await self.kernel.work.run(store.put_many, self.kernel, batch, stale)
            except Exception as exc:  # the database is down, say: those cards keep their buttons
                log.warning("Teams: %d question cards not kept: %s", len(batch), type(exc).__name__)
            else:
                for user in due:
                    if len(self.pruned) >= PRUNED_USERS:
                        self.pruned.pop(next(iter(self.pruned)))
                    self.pruned[user] = now
            finally:
                self.writing = {}

    def _prune_due(self, user: str, now: datetime) -> bool:
        last = self.pruned.get(user)
        return last is None or not (now - PRUNE_EVERY < last <= now)

    async def stop(self) -> None:
        """At shutdown: write what is waiting now, not after the delay."""
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.write()


def pressed_label(card: dict[str, Any], pressed: dict[str, Any]) -> str | None:
    """The title of what was chosen: a picked ChoiceSet value, else the button pressed."""
    for element in card.get("body", []):
        if element.get("type") == "Input.ChoiceSet" and element.get("id") in pressed:
            for choice in element.get("choices", []):
                if choice.get("value") == pressed[element["id"]]:
                    return str(choice.get("title"))
    for action in card.get("actions", []):
        data = action.get("data")
        submits = action.get("type") == "Action.Submit" and isinstance(data, dict)
        if submits and all(pressed.get(k) == v for k, v in data.items()):
            return str(action.get("title"))
    return None


def answered(card: dict[str, Any], label: str) -> dict[str, Any]:
    """The same card with its inputs and buttons gone and the answer underneath."""
    body = [e for e in card.get("body", []) if not str(e.get("type", "")).startswith("Input.")]
    body.append({"type": "TextBlock", "text": f"Your answer: {label}", "wrap": True})
    done = {k: v for k, v in card.items() if k != "actions"}
    done["body"] = body
    return done


async def close(cards: QuestionCards, context: TurnContext, user: str) -> None:
    """If this press answered a card we are keeping, show the answer on it."""
    activity = context.activity
    card_id = activity.reply_to_id
    if not card_id or not isinstance(activity.value, dict):
        return
    kept = await cards.take(user, card_id)
    if not kept:
        return
    label = pressed_label(kept["card"], activity.value)
    if label is None:
        return
    update = Activity(
        id=card_id,
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=ADAPTIVE, content=answered(kept["card"], label))],
    )
    try:
        await context.update_activity(update)
    except ErrorResponseException as exc:  # the card just keeps its buttons; the reply still goes
        log.warning("Teams: couldn't update an answered card: HTTP %s", http_status(exc)[0])
