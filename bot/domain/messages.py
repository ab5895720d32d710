"""The neutral message model every adapter renders: Slack blocks, Teams cards, terminal text.

Choices answer the current dialog question (they come back as text). Buttons are actions on
a stored record (a case or an approval) and come back as an action id plus a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

MENTION = re.compile(r"<@([^<>\s]+)>")


class Priority(IntEnum):
    """Which queued send goes first (lower first, then oldest): an urgent alert must never
    wait behind a yearly reminder to every member of staff."""

    URGENT = 0  # an urgent alert (Message.urgent)
    NORMAL = 1  # other alerts, and replies that had to be queued
    NUDGE = 2  # reminders to one person: a comment to answer, a report left unfinished
    BULK = 3  # one message to everyone (the yearly reminder), paced to the platform's limits


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Mention:
    """A person named in a message. Text holds `<@user_id>` where the name goes; Slack
    keeps it (and notifies them), Teams makes it a mention entity, the terminal shows the name."""

    user_id: str
    name: str


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


@dataclass(frozen=True)
class Button:
    action: str
    label: str
    value: str
    style: str | None = None  # "primary" or "danger"
    asks_for: str | None = None  # a prompt when the action needs typed text (a reason, a note)
    # An optional second field, e.g. a message to the reporter next to a case's outcome.
    also_asks: str | None = None
    # Who reads what is typed, shown on the form (e.g. "Only the DSL team sees the outcome").
    form_hint: str | None = None


@dataclass(frozen=True)
class Message:
    text: str
    title: str | None = None
    choices: tuple[Choice, ...] = ()
    buttons: tuple[Button, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    expects_files: bool = False
    urgent: bool = False
    free_text_allowed: bool = True
    step: str | None = None  # which question this asks, so a stale answer button is ignored
    mentions: tuple[Mention, ...] = ()  # people named in text/fields as <@user_id>
    # Under a question whose choices aren't the only answers: says what else may be typed
    # ("Pick one, or type the name of another app or site").
    hint: str | None = None
    # Takes the place of an earlier message whose record was disposed of: the platform
    # replaces it with this text (or deletes it), and one already gone is left gone.
    retract: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "title": self.title,
            "choices": [[c.value, c.label] for c in self.choices],
            "buttons": [
                [b.action, b.label, b.value, b.style, b.asks_for, b.also_asks, b.form_hint]
                for b in self.buttons
            ],
            "fields": [list(f) for f in self.fields],
            "expects_files": self.expects_files,
            "urgent": self.urgent,
            "free_text_allowed": self.free_text_allowed,
            "step": self.step,
            "mentions": [[m.user_id, m.name] for m in self.mentions],
            **({"hint": self.hint} if self.hint else {}),
            **({"retract": True} if self.retract else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            text=data["text"],
            title=data.get("title"),
            choices=tuple(Choice(v, label) for v, label in data.get("choices", [])),
            buttons=tuple(Button(*b) for b in data.get("buttons", [])),
            fields=tuple((k, v) for k, v in data.get("fields", [])),
            expects_files=data.get("expects_files", False),
            urgent=data.get("urgent", False),
            free_text_allowed=data.get("free_text_allowed", True),
            step=data.get("step"),
            mentions=tuple(Mention(u, n) for u, n in data.get("mentions", [])),
            hint=data.get("hint"),
            retract=data.get("retract", False),
        )

    def name_of(self, user_id: str) -> str:
        return next((m.name for m in self.mentions if m.user_id == user_id), user_id)

    def with_names(self) -> Message:
        """Mentions replaced by display names, for places with no mentions (the terminal)."""
        if not self.mentions:
            return self

        def names(text: str) -> str:
            return MENTION.sub(
                lambda m: self.name_of(m.group(1)) if self.knows(m.group(1)) else m.group(0),
                text,
            )

        return replace(
            self, text=names(self.text), fields=tuple((k, names(v)) for k, v in self.fields)
        )

    def knows(self, user_id: str) -> bool:
        return any(m.user_id == user_id for m in self.mentions)


@dataclass(frozen=True)
class Guidance:
    """One piece of advice, always tied to the clause of the school's policy it comes from."""

    clause: str
    text: str


# Bidirectional controls: embeddings, overrides and isolates, and the invisible marks.
# In a name they make "invoice\u202efdp.png" show as "invoicegnp.pdf" and turn round
# the words after it ("Added by ..."); nobody needs one in a name or a file name.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_NO_BIDI = str.maketrans("", "", BIDI_CONTROLS)


def plain_name(name: str) -> str:
    """A person's or a file's name as we show it, anywhere: without bidi controls, so it
    reads in the order its characters really are and can't turn round what follows."""
    return name.translate(_NO_BIDI)


def clean_name(name: str | None) -> str | None:
    """A display name as we keep it (see clean_text and plain_name)."""
    cleaned = clean_text(name)
    return plain_name(cleaned) if cleaned else cleaned


def clean_text(text: str | None) -> str | None:
    """Free text as we keep it: without U+0000, which nobody types, PostgreSQL can't store
    in text or JSON, and which made a database error quote the whole statement."""
    return text.replace("\x00", "") if text else text
