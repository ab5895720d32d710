"""The terminal chat: the real dialogs and storage, with no Slack or Teams account.

Choices and buttons are numbered: answer choices first, then the latest alert's buttons.
Type a number or a label; "close FR-0002" presses a button on a named case or comment,
also one shown in an earlier chat.
When stdin is not a terminal it reads plain lines, so conversations can be scripted.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.dispatch import BotService
from bot.dispatch.press import control_word
from bot.domain.evidence import EvidenceRefused
from bot.domain.messages import Button, Choice, Message
from bot.domain.turns import ButtonPress, StaffMessage, TurnStatus
from bot.kernel.registry import MENU_STEP

PLATFORM = "console"
ATTACH = re.compile(r"^/attach\s+(.+)$")
# A label and any reference the bot gives out (FR-0001, IM-0002, CM-3): every kind's code
# is two letters, so a new kind needs no change here.
ON_REF = re.compile(r"^(.+?)\s+([a-z]{2}-\d{1,6})$", re.I)
HELP = (
    "Type your answer, or a number from the list. Attach evidence with /attach PATH. "
    "Press Enter to check for new alerts. Type /quit to leave (you can carry on later)."
)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def _named(said: str, label: str, *, prefix: bool) -> bool:
    """Case-insensitive; with `prefix`, "close" names "Close with outcome"."""
    typed, words = _words(said), _words(label)
    return bool(typed) and (typed == words or (prefix and words[: len(typed)] == typed))


def _not_pressed(label: str, ref: str, buttons: list[Button]) -> str:
    """`close FR-0009` that matches no button: say why, and what would work."""
    if buttons:
        names = ", ".join(dict.fromkeys(b.label for b in buttons))
        return (
            f'{ref}\'s alert has no "{label}" button now (it may have been done already). '
            f"Its buttons: {names}."
        )
    return (
        f"I can't find an alert about {ref} for you. Check the reference, or type "
        f"case {ref} to see the case if it's yours or your team's."
    )


def _asking(prompt: str) -> str:
    """ "Why are you rejecting it?" as it is; "Your note" with a colon."""
    return prompt if prompt.endswith(("?", ":")) else f"{prompt}:"


def takes_numbers(question: Message) -> bool:
    """Could a number typed now be meant as the answer (an age, a date)? Not on the menu."""
    return question.free_text_allowed and question.step != MENU_STEP


@dataclass
class Screen:
    """What the person can press, as last shown: the open question (its choices are 1..n)
    and the latest alert's buttons, numbered after them, so each number presses what it
    said. An alert's buttons get no numbers while the question takes typed answers,
    because a number typed then could be meant as the answer."""

    question: Message | None = None
    buttons: list[Button] = field(default_factory=list)
    numbered: bool = False
    seen: list[Button] = field(default_factory=list)  # this session's buttons, oldest first

    def number(self, said: str) -> Choice | Button | None:
        choices = list(self.question.choices) if self.question else []
        if not (said.isascii() and said.isdigit()) or len(said) > 4 or int(said) < 1:
            return None
        index = int(said) - 1
        if index < len(choices):
            return choices[index]
        index -= len(choices)
        return self.buttons[index] if self.numbered and index < len(self.buttons) else None


class ConsoleChat:
    def __init__(
        self, service: BotService, user_id: str, out: TextIO = sys.stdout, name: str | None = None
    ):
        self.service = service
        self.user_id = user_id
        self.name = name or user_id
        self.out = out
        self.screen = Screen()

    # --- output -----------------------------------------------------------------------

    def show(self, message: Message, *, alert: bool = False) -> None:
        write, screen = self.out.write, self.screen
        message = message.with_names()  # the terminal has no mentions: show the names
        if alert:
            write("\n──── " + ("URGENT " if message.urgent else "") + "alert ────\n")
        if message.title:
            write(f"[{message.title}]\n")
        write(message.text.rstrip() + "\n")
        for label, value in message.fields:
            write(f"  {label}: {value}\n")
        if message.step or message.choices:  # a question (or the menu): numbers start again
            screen.question, screen.buttons = message, []
            if message.choices:
                labels = (f"{i}) {c.label}" for i, c in enumerate(message.choices, 1))
                write("  " + "   ".join(labels) + "\n")
                if message.hint:
                    write(f"  ({message.hint})\n")
        if message.buttons:
            screen.buttons = list(message.buttons)
            screen.seen = [b for b in screen.seen if b not in message.buttons] + screen.buttons
            question = screen.question
            screen.numbered = question is None or not takes_numbers(question)
            if screen.numbered:
                offset = len(question.choices) if question else 0
                labels = (f"{offset + i}) {b.label}" for i, b in enumerate(message.buttons, 1))
                write("  " + "   ".join(labels) + "\n")
            else:
                labels = (f"[{b.label}]" for b in message.buttons)
                write("  " + " ".join(labels) + "  (type a button's name to press it)\n")
        if message.expects_files:
            write("  (attach files with /attach PATH, then say done)\n")
        self.out.flush()

    def show_all(self, messages: list[Message]) -> None:
        for message in messages:
            self.show(message)

    def show_turn(self, messages: list[Message]) -> None:
        """The replies to a message: when none asks a question, no question is open."""
        if messages and not any(m.step or m.choices for m in messages):
            self.screen.question = None
        self.show_all(messages)

    def check_inbox(self) -> None:
        for message in self.service.intake.inbox(PLATFORM, self.user_id):
            self.show(message, alert=bool(message.buttons or message.title))

    # --- input ------------------------------------------------------------------------

    def _pressed(self, text: str) -> Choice | Button | str | None:
        """What a line presses: a number shown, `<label> <REF>`, or a label; or, for a
        label and reference that press nothing, what to tell the person instead."""
        said, screen = text.strip(), self.screen
        if said.isascii() and said.isdigit():
            return screen.number(said)
        if match := ON_REF.match(said):
            label, ref = match.group(1), match.group(2).upper()
            on_ref = [b for b in reversed(screen.seen) if b.value.split(":")[0] == ref]
            if not any(_named(label, b.label, prefix=True) for b in on_ref):
                on_ref = self.service.buttons_for(PLATFORM, self.user_id, ref)  # a later chat
            if button := self._unique(label, on_ref):
                return button
            if label.lower() != "case" and len(label.split()) <= 3:
                return _not_pressed(label, ref, on_ref)
        question = screen.question
        if question and any(_named(said, c.label, prefix=False) for c in question.choices):
            return None  # the question's own choice: answered as typed
        # While a question is open a label must be whole, so an answer isn't taken for one.
        prefix = question is None or question.step == MENU_STEP
        button = self._unique(said, screen.buttons, prefix=prefix)
        return button or self._unique(said, list(reversed(screen.seen)), prefix=False)

    @staticmethod
    def _unique(said: str, buttons: list[Button], *, prefix: bool = True) -> Button | None:
        exact = [b for b in buttons if _named(said, b.label, prefix=False)]
        named = exact or [b for b in buttons if prefix and _named(said, b.label, prefix=True)]
        return named[0] if named and all(b.label == named[0].label for b in named) else None

    def handle_line(self, line: str, read_more: Callable[[], str | None]) -> bool:
        """Process one line; False when the user wants to leave."""
        text = line.rstrip("\n")
        if text.strip() in ("/quit", "/exit"):
            self.out.write(self._goodbye() + "\n")
            return False
        if text.strip() == "/help":
            self.out.write(HELP + "\n")
            return True
        if not text.strip():
            self.check_inbox()
            return True
        if match := ATTACH.match(text.strip()):
            self._attach(match.group(1))
        elif isinstance(pressed := self._pressed(text), Button):
            if not self._press(pressed, read_more):
                return False
        elif isinstance(pressed, str):
            self.show(Message(pressed))
        else:
            self._answer(pressed.value if isinstance(pressed, Choice) else text)
        self.check_inbox()
        return True

    def _goodbye(self) -> str:
        """What leaving says: whether a half-finished report waits for them."""
        question = self.screen.question
        if question is not None and question.step and question.step != MENU_STEP:
            return (
                "Bye for now. Your answers so far are saved: start the chat again to carry "
                "on where you left off."
            )
        return "Bye for now. Start the chat again any time."

    def _answer(self, text: str) -> None:
        """Typed words answer the question on screen; if it has moved on (another window),
        the bot says so rather than taking them for the next question."""
        question = self.screen.question
        step = question.step if question else None
        message = StaffMessage(PLATFORM, self.user_id, text, name=self.name, answering=step)
        result = self.service.receive(message)
        replies = result.replies
        if result.status is TurnStatus.STALE and not any(m.step for m in replies):
            # The numbers on screen are out of date: show the question that is waiting.
            replies = replies + self.service.greet(PLATFORM, self.user_id, "Here's where we are:")
        self.show_turn(replies)

    def _press(self, button: Button, read_more: Callable[[], str | None]) -> bool:
        extra = message = None
        if button.asks_for:
            # As in Slack: a stale or forbidden button says so before asking for words.
            refusal = self.service.refusal_for(PLATFORM, self.user_id, button.action, button.value)
            if refusal:
                self.show(Message(refusal))
                return True
            if button.form_hint:
                self.out.write(button.form_hint + "\n")
            self.out.write(f"{_asking(button.asks_for)} ")
            self.out.flush()
            extra = read_more()
            if extra is None:
                return False
        if button.also_asks and control_word(extra) is None:  # "cancel" leaves the form now
            optional = button.also_asks.removesuffix(" (optional)")
            self.out.write(f"{optional} (optional: press Enter to leave it out): ")
            self.out.flush()
            message = read_more()
        press = ButtonPress(
            PLATFORM, self.user_id, button.action, button.value, extra, message, self.name
        )
        self.show_all(self.service.press(press).replies)
        return True

    def _attach(self, raw: str) -> None:
        if refusal := self.service.upload_refusal(PLATFORM, self.user_id):
            self.out.write(f"{refusal}\n")  # the file is never opened, let alone kept
            self.show_turn(self.service.greet(PLATFORM, self.user_id, ""))
            return
        files = []
        for part in raw.split(","):
            path = Path(part.strip()).expanduser()
            try:
                data = path.read_bytes()
            except OSError:
                self.out.write(f"I couldn't open {path}. Check the path and try again.\n")
                continue
            try:
                files.append(self.service.kernel.store_evidence(path.name, None, data))
            except EvidenceRefused as refusal:
                self.out.write(f"{refusal}\n")
        if files:
            message = StaffMessage(PLATFORM, self.user_id, "", tuple(files), self.name)
            self.show_turn(self.service.receive(message).replies)

    def run(self, stdin: TextIO = sys.stdin) -> None:
        interactive = stdin.isatty()

        def read() -> str | None:
            if interactive:
                try:
                    return input("you> ")
                except EOFError:
                    return None
            line = stdin.readline()
            return None if line == "" else line.rstrip("\n")

        if interactive:
            self.out.write(f"Chatting as {self.user_id}. {HELP}\n")
        self.show_turn(self.service.greet(PLATFORM, self.user_id))
        self.check_inbox()
        while (line := read()) is not None:
            if not interactive:
                self.out.write(f"you> {line}\n")
            if not self.handle_line(line, read):
                break
