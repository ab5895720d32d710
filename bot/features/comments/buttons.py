"""The moderators' buttons on a comment nudge: Replied, Acknowledged publicly,
Offensive (tell SLT) and Snooze. Only the account's moderators or SLT may press them."""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.cases import Actor
from bot.domain.messages import Message
from bot.features.comments import cards as cc
from bot.features.comments.moderation import Moderation
from bot.kernel.buttons import ButtonTarget
from bot.kernel.core import Kernel
from bot.kernel.registry import ButtonAction, ButtonHandler, Registry


def register(registry: Registry) -> None:
    for action in cc.ACTIONS:
        registry.add_button(ButtonAction(action, _press(action)))


def _press(action: str) -> ButtonHandler:
    def pressed(
        kernel: Kernel,
        session: Session,
        actor: Actor,
        target: ButtonTarget,
        text: str | None,
        message: str | None,
    ) -> list[Message]:
        return Moderation(kernel).act(session, actor, action, target.ref)

    return pressed
