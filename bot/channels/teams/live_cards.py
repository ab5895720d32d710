"""Question cards in a personal chat stay live until answered, then show the answer.

When the bot asks a question with choices, it keeps the card it sent (by activity id). When
a choice on that card is pressed, the card is updated in place (update_activity on the
press's replyToId) to show the question and the answer, without buttons, as in Slack. The
pressed choice is found by Adaptive Card rules alone (the button whose data the press
carries, or the picked value of a ChoiceSet), so this doesn't depend on what the data says.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botframework.connector.models import ErrorResponseException

from bot.channels.teams import store
from bot.channels.teams.delivery import ADAPTIVE, http_status
from bot.services import BotService

log = logging.getLogger(__name__)
KEEP = timedelta(days=30)  # a question left unanswered this long has gone stale anyway
PRUNE_EVERY = timedelta(hours=1)  # a person's stale cards are looked for at most this often
PRUNED_USERS = 10_000  # people whose last look is remembered (per adapter)


def _key(user: str, activity_id: str) -> str:
    return f"card:{user}:{hashlib.sha256(activity_id.encode()).hexdigest()[:24]}"


def remember(
    service: BotService,
    user: str,
    activity_id: str,
    card: dict[str, Any],
    pruned: dict[str, datetime],
) -> None:
    """Keep a question card (on a worker thread): one transaction, and the person's stale
    cards dropped in it at most hourly; `pruned` says when each person's were last looked
    for (that look scans the table: on every card it was most of the turn's database time)."""
    now = service.now()
    last = pruned.get(user)
    prune = last is None or not (now - PRUNE_EVERY < last <= now)
    store.put(
        service,
        _key(user, activity_id),
        {"card": card},
        forget=(f"card:{user}:", now - KEEP) if prune else None,
    )
    if prune:
        if len(pruned) >= PRUNED_USERS:
            pruned.pop(next(iter(pruned)))
        pruned[user] = now


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


async def close(service: BotService, context: TurnContext, user: str) -> None:
    """If this press answered a card we are keeping, show the answer on it."""
    activity = context.activity
    card_id = activity.reply_to_id
    if not card_id or not isinstance(activity.value, dict):
        return
    kept = await service.run(store.take, service, _key(user, card_id))
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
