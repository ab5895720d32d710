"""Question cards in a personal chat stay live until answered, then show the answer.

When the bot asks a question with choices, it keeps the card it sent (by activity id, with
the question's step id), whether it was a reply or sent later (a reminder of an unfinished
report). When the question is answered, the card is updated in place (update_activity) to
show the question and the answer, without buttons, as in Slack: found by the press's
replyToId when a choice on it was pressed, and by the question's step id when the answer
was typed. A stale button's card says it was already answered, never what was pressed.
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

from bot.domain.turns import TurnResult, TurnStatus
from bot.kernel.core import Kernel
from bot.platforms.teams import store
from bot.platforms.teams.cards import HINT_ID
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
    inside it loses only the "Answered" update of those cards: the conversation itself
    is in the database, and a second press is answered as already answered."""

    def __init__(self, kernel: Kernel, delay: float = WRITE_DELAY):
        self.kernel = kernel
        self.delay = delay
        self.waiting: dict[str, dict[str, Any]] = {}  # key -> {"card": ...}, not yet written
        self.writing: dict[str, dict[str, Any]] = {}  # the batch being written now
        self.owners: set[str] = set()  # whose cards are waiting
        self.pruned: dict[str, datetime] = {}  # when each person's stale cards were looked for
        self._writer: asyncio.Task[None] | None = None

    def keep(self, user: str, activity_id: str, card: dict[str, Any], step: str) -> None:
        self.waiting[_key(user, activity_id)] = {"card": card, "step": step, "id": activity_id}
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

    async def take_asking(self, user: str, step: str) -> list[dict[str, Any]]:
        """Every kept card of this person that asks `step`, forgotten (it is answered)."""
        prefix = f"card:{user}:"
        found = [
            self.waiting.pop(key)
            for key, kept in list(self.waiting.items())
            if key.startswith(prefix) and kept.get("step") == step
        ]
        if self._writer is not None and any(k.startswith(prefix) for k in self.writing):
            await asyncio.shield(self._writer)
        found += await self.kernel.work.run(store.take_where, self.kernel, prefix, "step", step)
        return found

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


ANSWERED = "Answered: {}"
WAS_ANSWERED = "This question was already answered."


def answered(card: dict[str, Any], label: str | None) -> dict[str, Any]:
    """The same card with its inputs and buttons gone and the answer underneath (or, for a
    stale button, that it had already been answered)."""
    body = [
        e
        for e in card.get("body", [])
        if not str(e.get("type", "")).startswith("Input.") and e.get("id") != HINT_ID
    ]
    note = ANSWERED.format(label) if label else WAS_ANSWERED
    body.append({"type": "TextBlock", "text": note, "wrap": True})
    done = {k: v for k, v in card.items() if k != "actions"}
    done["body"] = body
    return done


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


async def close(cards: QuestionCards, context: TurnContext, user: str, result: TurnResult) -> None:
    """Show the answer on the cards that asked the question this turn answered (pressed or
    typed), and on the card pressed; a stale press's card says it was already answered.
    A question asked again (an answer it couldn't read) keeps its cards as they are."""
    if result.status is TurnStatus.UNSAVED:
        return
    activity = context.activity
    pressed = activity.reply_to_id if isinstance(activity.value, dict) else None
    kept: list[dict[str, Any]] = []
    if pressed and (card := await cards.take(user, pressed)):
        kept.append({**card, "id": pressed})
    label = None
    if result.answered is not None:
        label = result.answered.label
        more = await cards.take_asking(user, result.answered.step)
        kept += [card for card in more if card.get("id") and card["id"] != pressed]
    elif result.status is TurnStatus.DONE and kept:
        card = kept[0]
        if any(m.step and m.step == card.get("step") for m in result.replies):
            cards.keep(user, card["id"], card["card"], card.get("step") or "")  # asked again
            return
        label = pressed_label(card["card"], activity.value)  # a menu: it answers no question
        if label is None:
            return
    for card in kept:
        update = Activity(
            id=card["id"],
            type=ActivityTypes.message,
            attachments=[Attachment(content_type=ADAPTIVE, content=answered(card["card"], label))],
        )
        try:
            await context.update_activity(update)
        except ErrorResponseException as exc:  # the card keeps its buttons; the reply goes
            log.warning("Teams: couldn't update an answered card: HTTP %s", http_status(exc)[0])
