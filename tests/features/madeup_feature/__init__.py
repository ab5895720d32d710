"""A made-up sixth conversation, written as a new feature would be: one folder with a
`register(registry)`. The test that uses it adds it to the feature list, which is the one
line a real feature adds in bot/features/__init__.py."""

from bot.domain.messages import Message
from bot.features.cases import opening
from bot.kernel.registry import ButtonAction, Conversation, Press, Registry
from tests.features.madeup_feature.dialog import KIND, LOST_DEVICE

# How staff ask for it: this feature has no corpus file, so it trains the classifier.
PHRASINGS = (
    "I lost my school laptop",
    "my work laptop was stolen",
    "left the school ipad on the train",
    "lost a school tablet",
    "someone stole my school laptop from my car",
    "I can't find my school device",
    "my laptop got nicked",
    "school ipad missing",
)
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
            phrasings=PHRASINGS,
        )
    )
    registry.add_button(ButtonAction(FOUND, _found))
