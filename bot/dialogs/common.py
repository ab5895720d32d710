"""Steps and wording shared by more than one conversation."""

from __future__ import annotations

from bot.dialogs.declarations import Step
from bot.domain.messages import Choice

SOCIAL_NETWORKS = (
    Choice("facebook", "Facebook"),
    Choice("instagram", "Instagram"),
    Choice("tiktok", "TikTok"),
    Choice("snapchat", "Snapchat"),
    Choice("x", "X (Twitter)"),
    Choice("whatsapp", "WhatsApp"),
    Choice("youtube", "YouTube"),
)


def social_network_step(prompt: str) -> Step:
    """Which social network (app or site) it happened on. The answer's key stays "platform",
    as in every conversation already saved and every case's details."""
    return Step(
        key="platform",
        prompt=prompt,
        kind="choice",
        choices=SOCIAL_NETWORKS,
        other_allowed=True,
        hint="Pick one, or type the name of another app or site.",
    )


def social_network_label(value: str) -> str:
    return next((c.label for c in SOCIAL_NETWORKS if c.value == value), value)


def yes_no(value: object) -> str:
    return "yes" if value else "no"


def join_words(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C": lists read as words in a sentence."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
