"""The terminal chat: the real dialogs and storage, with no Slack or Teams account.

Choices and buttons are numbered: an open question's choices 1..n, and every button shown
(on an alert, a case, a reply) a number of its own for the whole chat, so no two buttons
on screen share one. Type a number or a label; a label on more than one case asks which,
and "close FR-0002" presses a button on a named case or comment, also one shown in an
earlier chat. Every prompt a button asks names what it acts on.
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
from bot.kernel.buttons import ButtonTarget
from bot.kernel.registry import MENU_STEP

PLATFORM = "console"
ATTACH = re.compile(r"^/attach\s+(.+)$")
# A label and any reference the bot gives out (FR-0001, IM-0002, CM-3): every kind's code
# is two letters, so a new kind needs no change here.
ON_REF = re.compile(r"^(.+?)\s+([a-z]{2}-\d{1,6})$", re.I)
REF_IN_TITLE = re.compile(r"\b([A-Z]{2}-\d{1,6})\b")
HELP = (
    "Type your answer, or a number from the list. Attach evidence with /attach PATH. "
    "Press Enter to check for new alerts. Type /quit to leave (you can carry on later)."
)
REOPEN = "case.reopen"  # the button a closed case offers its team


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


def _named(said: str, label: str, *, prefix: bool) -> bool:
    """Case-insensitive; with `prefix`, "close" names "Close with outcome" and "note"
    names "Add note" (a two-word label's second word)."""
    typed, words = _words(said), _words(label)
    if not typed:
        return False
    if typed == words:
        return True
    return prefix and (words[: len(typed)] == typed or (len(words) == 2 and typed == words[1:]))


def ref_of(button: Button) -> str:
    target = ButtonTarget.decode(button.value)
    return target.ref if target else button.value


def _not_pressed(label: str, ref: str, buttons: list[Button]) -> str:
    """`close FR-0009` that matches no button: say why, and what would work."""
    if buttons:
        names = ", ".join(dict.fromkeys(b.label for b in buttons))
        if any(b.action == REOPEN for b in buttons):
            return f'{ref} is closed, so it has no "{label}" button now. You can: {names}.'
        return (
            f'{ref}\'s alert has no "{label}" button now (it may have been done already). '
            f"Its buttons: {names}."
        )
    return (
        f"I can't find an alert about {ref} for you. Check the reference, or type "
        f"case {ref} to see the case if it's yours or your team's."
    )


def takes_numbers(question: Message) -> bool:
    """Could a number typed now be meant as the answer (an age, a date)? Not on the menu."""
    return question.free_text_allowed and question.step != MENU_STEP


@dataclass
class Screen:
    """What the person can press, as shown. The open question's choices are 1..n; every
    button shown gets the next number of the chat, above the open question's choices, so
    each number on screen presses what it said, whichever alert arrived last. (A later
    question's choices take back the small numbers; an older button shown with one of them
    no longer answers to it.) Buttons get no numbers while the question takes typed
    answers, because a number typed then could be meant as the answer."""

    question: Message | None = None
    numbers: dict[int, Button] = field(default_factory=dict)
    next_number: int = 1
    live: dict[str, list[Button]] = field(default_factory=dict)  # newest buttons per reference
    asked: list[Button] = field(default_factory=list)  # on the reply to what they last typed

    def ask(self, question: Message) -> None:
        self.question = question
        for number in range(1, len(question.choices) + 1):
            self.numbers.pop(number, None)

    def numbered(self) -> bool:
        return self.question is None or not takes_numbers(self.question)

    def add(self, buttons: tuple[Button, ...]) -> list[int]:
        """Number these buttons (if numbers press buttons now); the numbers given."""
        for ref in dict.fromkeys(ref_of(b) for b in buttons):
            self.live[ref] = [b for b in buttons if ref_of(b) == ref]
        if not self.numbered():
            return []
        first = max(self.next_number, len(self.question.choices) + 1 if self.question else 1)
        given = list(range(first, first + len(buttons)))
        self.numbers.update(zip(given, buttons, strict=True))
        self.next_number = first + len(buttons)
        return given

    def number(self, said: str) -> Choice | Button | None:
        choices = list(self.question.choices) if self.question else []
        if not (said.isascii() and said.isdigit()) or len(said) > 4 or int(said) < 1:
            return None
        if int(said) <= len(choices):
            return choices[int(said) - 1]
        return self.numbers.get(int(said)) if self.numbered() else None

    def everything(self) -> list[Button]:
        """Every button still shown for its case or comment, newest case first."""
        return [b for buttons in reversed(self.live.values()) for b in buttons]


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
            screen.ask(message)
            if message.choices:
                labels = (f"{i}) {c.label}" for i, c in enumerate(message.choices, 1))
                write("  " + "   ".join(labels) + "\n")
                if message.hint:
                    write(f"  ({message.hint})\n")
        if message.buttons:
            if numbers := screen.add(message.buttons):
                labels = (f"{n}) {b.label}" for n, b in zip(numbers, message.buttons, strict=True))
                write("  " + "   ".join(labels) + "\n")
            else:
                labels = (f"[{b.label}]" for b in message.buttons)
                write("  " + " ".join(labels) + "  (type a button's name to press it)\n")
        elif message.title:  # an alert with nothing left to press (a closed case)
            for ref in REF_IN_TITLE.findall(message.title):
                screen.live[ref] = []
        if message.expects_files:
            write("  (attach files with /attach PATH, then say done)\n")
        self.out.flush()

    def show_all(self, messages: list[Message]) -> None:
        for message in messages:
            self.show(message)

    def show_turn(self, messages: list[Message]) -> None:
        """The replies to a message: when none asks a question, no question is open. Their
        buttons are what a label typed next presses first (`open` after `case CB-0006`)."""
        if messages and not any(m.step or m.choices for m in messages):
            self.screen.question = None
        self.show_all(messages)
        self.screen.asked = [b for m in messages for b in m.buttons]

    def check_inbox(self) -> None:
        for message in self.service.intake.inbox(PLATFORM, self.user_id):
            self.show(message, alert=bool(message.buttons or message.title))

    # --- input ------------------------------------------------------------------------

    def _pressed(self, text: str) -> Choice | Button | str | None:
        """What a line presses: a number shown, `<label> <REF>`, or a label; or, for a
        label that presses nothing or could mean more than one case, what to say instead."""
        said, screen = text.strip(), self.screen
        if said.isascii() and said.isdigit():
            return screen.number(said)
        if match := ON_REF.match(said):
            label, ref = match.group(1), match.group(2).upper()
            # The case as it is now (or, for a comment, its newest alert), then this screen.
            on_ref = self.service.buttons_for(PLATFORM, self.user_id, ref)
            if not any(_named(label, b.label, prefix=True) for b in on_ref):
                on_ref = on_ref or screen.live.get(ref, [])
            if button := self._unique(label, on_ref):
                return button
            if label.lower() != "case" and len(label.split()) <= 3:
                return _not_pressed(label, ref, on_ref)
        question = screen.question
        if question and any(_named(said, c.label, prefix=False) for c in question.choices):
            return None  # the question's own choice: answered as typed
        # While a question is open a label must be whole, so an answer isn't taken for one.
        prefix = question is None or question.step == MENU_STEP
        if button := self._unique(said, screen.asked, prefix=prefix):
            return button  # what they asked for last: `open` after `case CB-0006`
        return self._one_case(said, screen.everything(), prefix=prefix)

    @staticmethod
    def _one_case(said: str, buttons: list[Button], *, prefix: bool) -> Button | str | None:
        """A label typed with no reference presses it only if one case on screen has it;
        otherwise it asks which, rather than acting on whichever alert came last."""
        exact = [b for b in buttons if _named(said, b.label, prefix=False)]
        named = exact or [b for b in buttons if prefix and _named(said, b.label, prefix=True)]
        if not named:
            return None
        if len({(b.action, b.value) for b in named}) == 1:
            return named[0]
        refs = list(dict.fromkeys(ref_of(b) for b in named))
        if len({b.label for b in named}) > 1 or len(refs) < 2:
            return None
        label = named[0].label
        return (
            f'More than one case on screen has "{label}": {" and ".join(refs)}. Nothing has '
            f"changed. Type its number, or {label.split()[0].lower()} and the reference, "
            f"like {label.split()[0].lower()} {refs[0]}."
        )

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
            # Every prompt names what it acts on, so an outcome never lands on another case.
            ref = ref_of(button)
            about = self.service.describe(PLATFORM, self.user_id, ref) or ref
            asks = button.asks_for
            self.out.write(
                f"{asks[:-1]} ({about})? " if asks.endswith("?") else f"{asks} ({about}): "
            )
            self.out.flush()
            extra = read_more()
            if extra is None:
                return False
            if button.also_asks and control_word(extra) is None:  # "cancel" leaves it now
                asks = button.also_asks.removesuffix(" (optional)")
                self.out.write(f"{asks} for {ref} (optional: press Enter to leave it out): ")
                self.out.flush()
                message = read_more()
        press = ButtonPress(
            PLATFORM, self.user_id, button.action, button.value, extra, message, self.name
        )
        replies = self.service.press(press).replies
        self.show_all(replies)
        self.screen.asked = [b for m in replies for b in m.buttons]
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

        def read(prompt: str = "you> ") -> str | None:
            if interactive:
                try:
                    return input(prompt)
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
            # A form's words are typed on its own prompt line ("Outcome ...: "), not "you> ".
            if not self.handle_line(line, lambda: read("")):
                break
