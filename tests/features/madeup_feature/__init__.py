"""A made-up sixth conversation, written as a new feature would be: one folder with a
`register(registry)`. The test that uses it adds it to the feature list, which is the one
line a real feature adds in bot/features/__init__.py."""

import re

from bot.domain.messages import Message
from bot.features.cases import opening
from bot.kernel.registry import ButtonAction, Conversation, Press, Registry
from tests.features.madeup_feature.dialog import KIND, LOST_DEVICE

INTENT = re.compile(r"\b(lost|stolen|left)\b.*\b(laptop|tablet|ipad|device)\b")
FOUND = "lost_device.found"


def _found(press: Press) -> list[Message]:
    return [Message(f"Noted: {press.target.ref} was found.")]


def register(registry: Registry) -> None:
    registry.add_case_kind(KIND)
    registry.add_conversation(
        Conversation(
            LOST_DEVICE,
            "A lost or stolen device",
            opening.finish,
            about="A lost or stolen school laptop, tablet or phone goes to SLT",
            intent=INTENT,
        )
    )
    registry.add_button(ButtonAction(FOUND, _found))
