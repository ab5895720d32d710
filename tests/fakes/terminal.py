"""Plays a person at the terminal chat: a scripted stdin for ConsoleChat, and what it printed."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from bot.platforms.console.chat import ConsoleChat


class Script:
    """A scripted stdin (not a terminal): lines typed in order, and in between, callables
    for what happens elsewhere meanwhile (another window, a colleague's click)."""

    def __init__(self, *steps: str | Callable[[], object]):
        self.steps = list(steps)

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        while self.steps:
            step = self.steps.pop(0)
            if isinstance(step, str):
                return step + "\n"
            step()
        return ""


def chat(service: Any, user: str, *steps: str | Callable[[], object]) -> str:
    """Run one terminal chat to the end of its script; return what it printed."""
    out = io.StringIO()
    ConsoleChat(service, user, out=out, name=user.title()).run(Script(*steps))  # type: ignore[arg-type]
    return out.getvalue()


def after(output: str, typed: str) -> str:
    """What the chat printed after the last time `typed` was typed."""
    return output.rsplit(f"you> {typed}\n", 1)[1]
