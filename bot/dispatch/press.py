"""Button presses: decode the one button payload, find the feature that registered the
action, and let it check who may press it and act."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.cases import Actor
from bot.domain.messages import Message
from bot.kernel.buttons import ButtonTarget
from bot.kernel.core import Kernel
from bot.kernel.registry import Press

UNKNOWN_BUTTON = "Sorry, I don't recognise that button. Nothing has changed."


class ButtonPresses:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel

    def handle(
        self,
        session: Session,
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
        return spec.handle(Press(self.kernel, session, actor, target, text, message))

    def refusal(self, session: Session, actor: Actor, action: str, value: str) -> str | None:
        """Why this person may not press this button, asked before a form opens for it."""
        spec = self.kernel.registry.buttons.get(action)
        target = ButtonTarget.decode(value)
        if spec is None or target is None:
            return UNKNOWN_BUTTON
        if spec.refusal is None:
            return None
        return spec.refusal(Press(self.kernel, session, actor, target))
