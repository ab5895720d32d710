"""The terminal chat: the real dialogs and storage, with no Slack or Teams account.

Choices and buttons are numbered: answer choices first, then the latest alert's buttons.
Type a number or a label; "acknowledge FR-0002" presses a button on a named case.
When stdin is not a terminal it reads plain lines, so conversations can be scripted.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.domain.evidence import EvidenceRefused
from bot.domain.messages import Button, Choice, Message
from bot.services import BotService

PLATFORM = "console"
ATTACH = re.compile(r"^/attach\s+(.+)$")
HELP = (
    "Type your answer, or a number from the list. Attach evidence with /attach PATH. "
    "Press Enter to check for new alerts. Type /quit to leave (you can carry on later)."
)


@dataclass
class Menu:
    choices: list[Choice] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    all_buttons: list[Button] = field(default_factory=list)


class ConsoleChat:
    def __init__(
        self, service: BotService, user_id: str, out: TextIO = sys.stdout, name: str | None = None
    ):
        self.service = service
        self.user_id = user_id
        self.name = name or user_id
        self.out = out
        self.menu = Menu()

    # --- output -----------------------------------------------------------------------

    def show(self, message: Message, alert: bool = False) -> None:
        write = self.out.write
        message = message.with_names()  # the terminal has no mentions: show the names
        if alert:
            write("\n──── " + ("URGENT " if message.urgent else "") + "alert ────\n")
        if message.title:
            write(f"[{message.title}]\n")
        write(message.text.rstrip() + "\n")
        for label, value in message.fields:
            write(f"  {label}: {value}\n")
        if message.choices:
            self.menu.choices = list(message.choices)
            self.menu.buttons = []
        if message.buttons:
            self.menu.buttons = list(message.buttons)
            self.menu.all_buttons = [
                b for b in self.menu.all_buttons if b.value != message.buttons[0].value
            ] + list(message.buttons)
        offset = len(self.menu.choices)
        if message.choices:
            write(
                "  "
                + "   ".join(f"{i}) {c.label}" for i, c in enumerate(message.choices, 1))
                + "\n"
            )
        if message.buttons:
            write(
                "  "
                + "   ".join(f"{offset + i}) {b.label}" for i, b in enumerate(message.buttons, 1))
                + "\n"
            )
        if message.expects_files:
            write("  (attach files with /attach PATH, then say done)\n")
        self.out.flush()

    def show_all(self, messages: list[Message]) -> None:
        for message in messages:
            self.show(message)

    def check_inbox(self) -> None:
        for message in self.service.inbox(PLATFORM, self.user_id):
            self.show(message, alert=bool(message.buttons or message.title))

    # --- input ------------------------------------------------------------------------

    def _button_for(self, line: str) -> Button | None:
        said = line.strip().lower()
        offset = len(self.menu.choices)
        if said.isdigit() and offset < int(said) <= offset + len(self.menu.buttons):
            return self.menu.buttons[int(said) - offset - 1]
        if said.isdigit():
            return None
        if m := re.match(r"^(.+?)\s+((?:fr|cb|ac)-\d+)$", said):
            label, ref = m.group(1), m.group(2).upper()
            return next(
                (
                    b
                    for b in reversed(self.menu.all_buttons)
                    if b.label.lower() == label and b.value.split(":")[0] == ref
                ),
                None,
            )
        return next((b for b in self.menu.buttons if b.label.lower() == said), None)

    def handle_line(self, line: str, read_more: Callable[[], str | None]) -> bool:
        """Process one line; False when the user wants to leave."""
        text = line.rstrip("\n")
        if text.strip() in ("/quit", "/exit"):
            return False
        if text.strip() == "/help":
            self.out.write(HELP + "\n")
            return True
        if not text.strip():
            self.check_inbox()
            return True
        if match := ATTACH.match(text.strip()):
            self._attach(match.group(1))
        elif button := self._button_for(text):
            extra = message = None
            if button.asks_for:
                if button.form_hint:
                    self.out.write(button.form_hint + "\n")
                self.out.write(f"{button.asks_for}: ")
                self.out.flush()
                extra = read_more()
                if extra is None:
                    return False
            if button.also_asks:
                self.out.write(f"{button.also_asks} (press Enter to leave it out): ")
                self.out.flush()
                message = read_more()
            self.show_all(
                self.service.handle_action(
                    PLATFORM,
                    self.user_id,
                    button.action,
                    button.value,
                    extra,
                    self.name,
                    message=message,
                )
            )
        else:
            self.show_all(self.service.handle_message(PLATFORM, self.user_id, text, name=self.name))
        self.check_inbox()
        return True

    def _attach(self, raw: str) -> None:
        files = []
        for part in raw.split(","):
            path = Path(part.strip()).expanduser()
            try:
                data = path.read_bytes()
            except OSError:
                self.out.write(f"I couldn't open {path}. Check the path and try again.\n")
                continue
            try:
                files.append(self.service.store_evidence(path.name, None, data))
            except EvidenceRefused as refusal:
                self.out.write(f"{refusal}\n")
        if files:
            self.show_all(self.service.handle_message(PLATFORM, self.user_id, "", files, self.name))

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
        self.show_all(self.service.greet(PLATFORM, self.user_id))
        self.check_inbox()
        while (line := read()) is not None:
            if not interactive:
                self.out.write(f"you> {line}\n")
            if not self.handle_line(line, read):
                break
