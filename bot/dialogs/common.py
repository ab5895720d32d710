"""Steps and wording shared by more than one conversation."""

from __future__ import annotations

import re
from typing import Any

from bot.dialogs.declarations import Step
from bot.dialogs.parsing import NO, SKIP_WORDS, YES, normalise
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
        check=_a_name,
    )


def _a_name(value: str, _ctx: object) -> str | None:
    """A yes, a no or a "don't know" is not the name of an app ("no" was kept as one)."""
    said = normalise(value)
    if said in YES or said in NO or said in SKIP_WORDS:
        return "Please pick one, or type the name of the app or site, for example LinkedIn."
    return None


# What staff call them: "insta", "the gram", "snap", "fb", "tt".
_NICKNAMES = {
    "facebook": r"facebook|fb|face book|messenger",
    "instagram": r"instagram|insta|instagarm|instgram|the gram|ig",
    "tiktok": r"tiktok|tik tok|tt",
    "snapchat": r"snapchat|snap chat|snap",
    "x": r"twitter|tweet|x \(twitter\)",
    "whatsapp": r"whatsapp|whats app|wa",
    "youtube": r"youtube|yt",
}
_NAMED = [(value, re.compile(rf"\b(?:{words})\b")) for value, words in _NICKNAMES.items()]


def social_network_named(text: str) -> str | None:
    """The one social network these words name ("on insta"), or None for none or several."""
    said = text.lower()
    named = {value for value, pattern in _NAMED if pattern.search(said)}
    return named.pop() if len(named) == 1 else None


def with_social_network(
    understood: tuple[dict[str, Any], str], text: str
) -> tuple[dict[str, Any], str]:
    """An opening's answers, plus the social network it names (asked no more)."""
    answers, note = understood
    platform = social_network_named(text)
    if platform is None:
        return answers, note
    said = f"You said it was on {social_network_label(platform)}, so I won't ask where."
    return {**answers, "platform": platform}, f"{note} {said}".strip()


def social_network_label(value: str) -> str:
    return next((c.label for c in SOCIAL_NETWORKS if c.value == value), value)


def yes_no(value: object) -> str:
    return "yes" if value else "no"


def join_words(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C": lists read as words in a sentence."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
