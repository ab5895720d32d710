"""Button presses: decode the one button payload, find the feature that registered the
action, and let it check who may press it and act."""

from __future__ import annotations

from bot.dialogs.engine import BACK_WORDS, CANCEL_WORDS, HELP_WORDS
from bot.dialogs.parsing import normalise
from bot.domain.cases import Actor
from bot.domain.messages import Message
from bot.kernel.buttons import ButtonTarget
from bot.kernel.core import Kernel
from bot.kernel.registry import Press
from bot.storage.scoping import SchoolSession

UNKNOWN_BUTTON = "Sorry, I don't recognise that button. Nothing has changed."
# Typed at a button's form (an outcome, a reason, a note, the words for the reporter), these
# leave the form: they are never taken as what was asked for.
LEFT_FORM = "Nothing has changed{about}. Press the button again when you're ready."
FORM_HELP = (
    "Nothing has changed{about}. When you press the button again, fill in “{asks}”, or "
    "type cancel to leave it."
)


def control_word(text: str | None) -> str | None:
    """ "cancel", "back" or "help" (or their other words) typed where words were asked for."""
    said = normalise(text or "")
    if said in CANCEL_WORDS or said in BACK_WORDS:
        return "cancel"
    return "help" if said in HELP_WORDS else None


class ButtonPresses:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel

    def handle(
        self,
        session: SchoolSession,
        actor: Actor,
        action: str,
        value: str,
        text: str | None,
        *,
        message: str | None = None,
    ) -> list[Message]:
        """`text` is what the form asked for (a note, an outcome, a reason); `message` is
        the optional words for the reporter when a case is closed."""
        spec = self.kernel.registry.buttons.get(action)
        target = ButtonTarget.decode(value)
        if spec is None or target is None:
            return [Message(UNKNOWN_BUTTON)]
        word = control_word(text) or control_word(message)
        if word is not None:
            about = f": {target.ref} is as it was" if target.ref else ""
            if word == "help" and spec.asks_for:
                return [Message(FORM_HELP.format(about=about, asks=spec.asks_for))]
            return [Message(LEFT_FORM.format(about=about))]
        return spec.handle(Press(self.kernel, session, actor, target, text, message))

    def refusal(self, session: SchoolSession, actor: Actor, action: str, value: str) -> str | None:
        """Why this person may not press this button, asked before a form opens for it."""
        spec = self.kernel.registry.buttons.get(action)
        target = ButtonTarget.decode(value)
        if spec is None or target is None:
            return UNKNOWN_BUTTON
        if spec.refusal is None:
            return None
        return spec.refusal(Press(self.kernel, session, actor, target))
