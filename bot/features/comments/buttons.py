"""The moderators' buttons on a comment nudge: Replied, Acknowledged publicly,
Offensive (tell SLT) and Snooze. Only the account's moderators or SLT may press them."""

from __future__ import annotations

from bot.domain.messages import Message
from bot.features.comments import cards as cc
from bot.features.comments.moderation import Moderation
from bot.kernel.registry import ButtonAction, ButtonHandler, Press, Registry


def register(registry: Registry) -> None:
    for action in cc.ACTIONS:
        registry.add_button(ButtonAction(action, _press(action)))


def _press(action: str) -> ButtonHandler:
    def pressed(press: Press) -> list[Message]:
        return Moderation(press.kernel).act(press.session, press.actor, action, press.target.ref)

    return pressed
