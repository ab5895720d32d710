"""The one registry: which conversations, buttons, reminder kinds, case kinds and text
commands exist, and the classifier that reads free text for them. Each feature adds its own in `register()` (see bot.features); the kernel
and the platforms only ever look things up here, so no table elsewhere lists features.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.dialogs.declarations import Dialog
from bot.dialogs.outcome import Outcome
from bot.domain.cases import Actor, CaseKind
from bot.domain.messages import Button, Choice, Message
from bot.kernel.buttons import ButtonTarget
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case, Reminder
from bot.understanding.corpus import NONE, QUESTION, Example, load_corpus
from bot.understanding.model import Classifier, Understanding

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

# The step a menu's buttons answer: there is no conversation yet, so pressing one while a
# conversation is in progress is a stale button, not an answer to that conversation.
MENU_STEP = "menu"

Finish = Callable[["Kernel", SchoolSession, Actor, str, Outcome], list[Message]]
# Opens a case before the conversation ends (a child in danger now): its reference and
# what the person is told at once.
Alarm = Callable[["Kernel", SchoolSession, Actor, Outcome], tuple[str, list[Message]]]
Prepare = Callable[["Kernel", SchoolSession], "dict[str, Any] | Message | None"]


@dataclass(frozen=True)
class Conversation:
    """A dialog staff can start: from the menu, from words the classifier reads as asking
    for it, or (with `takes_files`) by sending files with no conversation in progress."""

    dialog: Dialog
    label: str  # its menu button
    finish: Finish  # what happens when the last question is answered
    about: str = ""  # one sentence for the README's table of what the bot does
    # Ways staff ask for it, beyond the corpus (bot/understanding/corpus): a feature that
    # has no corpus file yet trains the classifier with these.
    phrasings: tuple[str, ...] = ()
    triage: bool = False  # asks what harm a child is at risk of (see Registry.triage)
    # Goes privately to one role (a concern about staff): words about harm to a child stay
    # in it rather than going to the triage, whose alerts the DSL team reads.
    private: bool = False
    prepare: Prepare | None = None  # options fixed at the start, or a message saying why not
    takes_files: bool = False
    alarm: Alarm | None = None  # what its dialog's alarm opens (see Dialog.alarm)
    # Left unfinished with a child in it, it reaches the DSL (SG-UNFINISHED). Not for a
    # concern about staff: the DSL may be the person it is about.
    unfinished_to_dsl: bool = False

    @property
    def name(self) -> str:
        return self.dialog.name


@dataclass(frozen=True)
class Press:
    """One button press as a feature sees it: who pressed what, in which transaction, and
    the words its form asked for (`text`: a note, an outcome, a reason; `message`: the
    optional words for the reporter when a case is closed). A refusal check, asked
    before a form opens, gets one with no words."""

    kernel: Kernel
    session: SchoolSession
    actor: Actor
    target: ButtonTarget
    text: str | None = None
    message: str | None = None


ButtonHandler = Callable[[Press], list[Message]]
ButtonRefusal = Callable[[Press], "str | None"]


@dataclass(frozen=True)
class ButtonAction:
    """A button: what pressing it does, who may press it, and whether it asks for words
    first (a note, a reason). `refusal` is asked before a platform opens a form for it."""

    action: str
    handle: ButtonHandler
    refusal: ButtonRefusal | None = None
    asks_for: str | None = None
    also_asks: str | None = None  # an optional second field
    form_hint: str | None = None

    def button(self, label: str, target: ButtonTarget, style: str | None = None) -> Button:
        return Button(
            self.action,
            label,
            target.encode(),
            style,
            asks_for=self.asks_for,
            also_asks=self.also_asks,
            form_hint=self.form_hint,
        )


ReminderHandler = Callable[["Kernel", SchoolSession, Reminder], str]


@dataclass(frozen=True)
class ReminderKind:
    """A stored reminder kind. Overdue reminders of one `subject` fold into the one with
    the highest `stage`, so downtime never sends two messages about one thing."""

    kind: str
    handle: ReminderHandler
    subject: Callable[[Reminder], str] = lambda r: f"{r.kind}:{r.id}"
    stage: int = 0
    # Loads what a batch of these needs in a few queries, not a few per reminder.
    preload: Callable[[SchoolSession, list[Reminder]], None] | None = None


@dataclass(frozen=True)
class TextCommand:
    """Words that do something outside any conversation ("my cases", "case FR-0001").
    `match` returns the argument it found, or None."""

    name: str
    match: Callable[[Registry, str, str], str | None]  # (registry, text, normalised) -> arg
    handle: Callable[[Kernel, SchoolSession, Actor, str], list[Message]]
    menu_label: str | None = None  # also offered on the menu, after the conversations


@dataclass
class Registry:
    conversations: dict[str, Conversation] = field(default_factory=dict)
    buttons: dict[str, ButtonAction] = field(default_factory=dict)
    reminders: dict[str, ReminderKind] = field(default_factory=dict)
    commands: dict[str, TextCommand] = field(default_factory=dict)
    case_kinds: dict[str, CaseKind] = field(default_factory=dict)
    # Called when the service prepares its schedules (e.g. the yearly reminder).
    schedules: list[Callable[[Kernel, SchoolSession], None]] = field(default_factory=list)
    # A case kind's own alert (an approval), else the cases feature's standard one.
    alerts: dict[str, Callable[[Kernel, SchoolSession, Case, list[str]], Message]] = field(
        default_factory=dict
    )

    # --- what features call ----------------------------------------------------------------

    def add_conversation(self, conversation: Conversation) -> None:
        _add(self.conversations, conversation.name, conversation)

    def add_button(self, action: ButtonAction) -> ButtonAction:
        return _add(self.buttons, action.action, action)

    def add_reminder(self, kind: ReminderKind) -> None:
        _add(self.reminders, kind.kind, kind)

    def add_command(self, command: TextCommand) -> None:
        _add(self.commands, command.name, command)

    def add_case_kind(self, kind: CaseKind) -> None:
        _add(self.case_kinds, kind.code, kind)

    # --- what the kernel and the platforms look up ------------------------------------------

    def case_kind(self, code: str) -> CaseKind:
        """A stored case's kind. A code no feature registers (a feature removed since) still
        reads as a case, never a crash."""
        return self.case_kinds.get(code) or CaseKind(code, "Case")

    def menu(self) -> tuple[Choice, ...]:
        chats = [Choice(c.name, c.label) for c in self.conversations.values()]
        extras = [Choice(c.name, c.menu_label) for c in self.commands.values() if c.menu_label]
        return (*chats, *extras)

    def understand(self, text: str, words: Mapping[str, str] | None = None) -> Understanding:
        """What free text asks for: the likeliest conversation (or "none", "question"), how
        likely, and whether it may be about a child at risk. `words` are the school's own."""
        return classifier_for(self.labels(), self.phrasings()).read(text, words)

    def labels(self) -> tuple[str, ...]:
        return tuple(sorted(self.conversations))

    def phrasings(self) -> tuple[tuple[str, str], ...]:
        """Ways to ask for a conversation its feature declares, beyond the corpus."""
        return tuple((c.name, p) for c in self.conversations.values() for p in c.phrasings)

    @property
    def triage(self) -> Conversation | None:
        """The conversation that asks about harm to a child (SG-HARM-TYPES): where words
        that may be about a child at risk go when nothing else is sure."""
        return next((c for c in self.conversations.values() if c.triage), None)

    def reference_pattern(self) -> re.Pattern[str]:
        """A case reference of any registered kind, e.g. FR-0001 (ASCII digits only)."""
        codes = "|".join(sorted(self.case_kinds)) or "(?!)"
        return re.compile(rf"^(?:case\s+)?((?:{codes})-[0-9]{{1,6}})$", re.I)


def _add(table: dict[str, Any], key: str, value: Any) -> Any:
    if key in table and table[key] != value:
        raise ValueError(f"{key!r} is registered twice")
    table[key] = value
    return value


@functools.lru_cache(maxsize=8)
def classifier_for(labels: tuple[str, ...], phrasings: tuple[tuple[str, str], ...]) -> Classifier:
    """Trained once per process for this set of conversations: the corpus rows for them (a
    conversation this build lacks is not guessed), "none" and "question", and the features'
    own phrasings."""
    known = {*labels, NONE, QUESTION}
    examples = [e for e in load_corpus() if e.label in known]
    examples += [Example(text, label) for label, text in phrasings]
    return Classifier(examples)
