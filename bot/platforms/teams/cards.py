"""Neutral messages -> Adaptive Cards 1.5, as plain dicts (no botbuilder needed to build them).

Dialog choices become Action.Submit buttons whose data is {"schoolbot": "choice", "step",
"value"}; more than MAX_BUTTONS choices become a compact ChoiceSet with one Send button,
because Teams shows only a few card buttons. A question that takes other answers too (a
message `hint`) says so under it, and its list ends with "Other" and a box to type in. Record buttons (case and approval actions)
submit {"schoolbot": "action", "action", "value"}; those that need words (a note, an
outcome, a reason) open an Action.ShowCard with a required Input.Text named "text".
Every button's data is passed through `sign` (button_seal.py adds its school and a
signature); without one (the schema tests) it is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.domain.messages import MENTION, Button, Message

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CHOICE, ACTION = "choice", "action"
MAX_BUTTONS = 5
TEXT_LIMIT = 4000
FILES_HINT = "Attach screenshots or files to a message here, then press Done."
HINT_ID = "hint"  # the line under a question saying what else may be typed
# "Other" in a list whose choices aren't the only answers: what is typed in the box under
# it ("other") is the answer; picked with the box left empty, the person is asked to type.
OTHER, OTHER_BOX = "schoolbot:other", "other"
TYPE_OTHER = "Please type your answer here in the chat, in a few words."
STYLES = {"primary": "positive", "danger": "destructive"}
Signer = Callable[[dict[str, Any]], dict[str, Any]]


def _unsigned(data: dict[str, Any]) -> dict[str, Any]:
    return data


def needs_card(message: Message) -> bool:
    """Plain replies (a refusal, a thank-you) read better as ordinary chat text."""
    return bool(
        message.title
        or message.fields
        or message.choices
        or message.buttons
        or message.expects_files
    )


def fallback_text(message: Message) -> str:
    """What notifications and old clients show (names, not mention tags)."""
    plain = message.with_names()
    text = f"{plain.title}: {plain.text}" if plain.title else plain.text
    return text[:TEXT_LIMIT]


def at_tags(message: Message, text: str) -> str:
    """`<@id>` of a person the message names -> Teams' `<at>Name</at>` mention tag."""
    return MENTION.sub(
        lambda m: (
            f"<at>{message.name_of(m.group(1))}</at>" if message.knows(m.group(1)) else m.group(0)
        ),
        text,
    )


def _names_someone(message: Message, line: str) -> bool:
    return any(message.knows(user) for user in MENTION.findall(line))


def mention_lines(message: Message) -> str:
    """The lines that name people, with Teams mention tags: sent as the activity's own
    text with mention entities (Teams notifies them), above the card."""
    return "\n\n".join(
        at_tags(message, line)
        for line in message.text.splitlines()
        if _names_someone(message, line)
    )


def mention_entities(message: Message) -> list[dict[str, Any]]:
    """One Teams mention entity per person the text names, matching `mention_lines`."""
    named = set(MENTION.findall(message.text))
    return [
        {
            "type": "mention",
            "text": f"<at>{m.name}</at>",
            "mentioned": {"id": m.user_id, "name": m.name},
        }
        for m in message.mentions
        if m.user_id in named
    ]


def _card_part(message: Message) -> Message:
    """The card shows everything but the lines that name people (those are the activity's
    text, where Teams can mention them); any other mention shows as a plain name."""
    if not message.mentions:
        return message
    kept = [line for line in message.text.splitlines() if not _names_someone(message, line)]
    return replace(message, text="\n".join(kept)).with_names()


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text[:TEXT_LIMIT] or " ", "wrap": True, **extra}


def choice_data(step: str | None, value: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"schoolbot": CHOICE, "step": step or ""}
    if value is not None:
        data["value"] = value
    return data


def choice_text(data: dict[str, Any]) -> str | None:
    """The answer a question card sent: what was typed in its "Other" box, else the choice
    picked; None when "Other" was picked (or nothing) and the box was left empty."""
    typed = str(data.get(OTHER_BOX) or "").strip()
    if typed:
        return typed
    value = str(data.get("value") or "")
    if value == OTHER or (not value and OTHER_BOX in data):
        return None
    return value


def action_data(action: str, value: str) -> dict[str, Any]:
    return {"schoolbot": ACTION, "action": action, "value": value}


def _form(button: Button) -> list[dict[str, Any]]:
    """The boxes a button asks for: the required one ("text"), an optional second one
    ("message", e.g. for the reporter) and a line saying who reads which."""
    body: list[dict[str, Any]] = []
    if button.form_hint:
        body.append(_text(button.form_hint, isSubtle=True, size="Small"))
    body.append(
        {
            "type": "Input.Text",
            "id": "text",
            "label": button.asks_for,
            "isMultiline": True,
            "maxLength": 2000,
            "isRequired": True,
            "errorMessage": "Please write a few words.",
        }
    )
    if button.also_asks:
        body.append(
            {
                "type": "Input.Text",
                "id": "message",
                "label": button.also_asks,
                "isMultiline": True,
                "maxLength": 2000,
            }
        )
    return body


def _button(button: Button, sign: Signer) -> dict[str, Any]:
    if button.asks_for:
        return {
            "type": "Action.ShowCard",
            "title": button.label[:60],
            "card": {
                "type": "AdaptiveCard",
                "body": _form(button),
                "actions": [
                    {
                        "type": "Action.Submit",
                        "title": "Save",
                        "data": sign(action_data(button.action, button.value)),
                        **({"style": STYLES[button.style]} if button.style in STYLES else {}),
                    }
                ],
            },
        }
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label[:60],
        "data": sign(action_data(button.action, button.value)),
    }
    if button.style in STYLES:
        action["style"] = STYLES[button.style]
    return action


def _choices(message: Message, sign: Signer) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(extra body elements, actions) for the dialog's answer choices."""
    if len(message.choices) <= MAX_BUTTONS:
        return [], [
            {
                "type": "Action.Submit",
                "title": c.label[:60],
                "data": sign(choice_data(message.step, c.value)),
            }
            for c in message.choices
        ]
    other = bool(message.hint)
    choices = [{"title": c.label, "value": c.value} for c in message.choices]
    picker: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": "value",
        "style": "compact",
        "isRequired": not other,  # with "Other", the box under it may be the answer
        "placeholder": "Choose…",
        "choices": choices + ([{"title": "Other", "value": OTHER}] if other else []),
    }
    if not other:
        picker["errorMessage"] = "Please pick one."
    extra: list[dict[str, Any]] = [picker]
    if other:
        extra.append(
            {
                "type": "Input.Text",
                "id": OTHER_BOX,
                "label": "Other (type it here)",
                "maxLength": 60,
            }
        )
    send = {"type": "Action.Submit", "title": "Send", "data": sign(choice_data(message.step))}
    return extra, [send]


def render(message: Message, sign: Signer = _unsigned) -> dict[str, Any]:
    """An Adaptive Card for `message`; validated against the 1.5 schema in the tests."""
    message = _card_part(message)
    body: list[dict[str, Any]] = []
    if message.title:
        body.append(
            _text(
                message.title[:200],
                size="Medium",
                weight="Bolder",
                **({"color": "Attention"} if message.urgent else {}),
            )
        )
    body.append(_text(message.text))
    if message.fields:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": k[:100], "value": v[:2000]} for k, v in message.fields],
            }
        )
    extra, actions = _choices(message, sign)
    if message.hint and message.choices:
        body.append(_text(message.hint, id=HINT_ID, isSubtle=True, size="Small"))
    body.extend(extra)
    actions.extend(_button(b, sign) for b in message.buttons)
    if message.expects_files:
        body.append(_text(FILES_HINT, isSubtle=True, size="Small"))
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": fallback_text(message),
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card
