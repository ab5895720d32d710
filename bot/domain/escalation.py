"""The escalation ladder: what happens, and when, to an alert nobody acknowledges.

A DSL teaching a lesson never sees a chat mention, so after chat the ladder leaves chat:
email, as the safeguarding systems schools use do (a reference, the kind and a link, no
personal details). Each level waits after the one before it: an urgent case in minutes,
day and night; a routine one in working hours on the school calendar.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The levels, in the only order they may come.
MENTION = "mention"  # post again, mentioning the owning role's holders
DEPUTY = "deputy"  # post again and pass it to the deputies (DM), naming them
EMAIL_LEADS = "email_leads"  # email the owning team's holders (the DSL and deputies)
EMAIL_HEAD = "email_head"  # email the Headteacher
LEVELS = (MENTION, DEPUTY, EMAIL_LEADS, EMAIL_HEAD)
Level = Literal["mention", "deputy", "email_leads", "email_head"]


class Step(BaseModel):
    """One level of the ladder and how long it waits after the level before it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Level
    urgent_minutes: int = Field(ge=1, le=24 * 60)
    routine_hours: int = Field(ge=1, le=5 * 24)  # working hours


def default_ladder(realert_minutes: int) -> tuple[Step, ...]:
    """The ladder when a pack names none: the two chat levels keep the re-alert time every
    pack already has; the emails follow 15 and 30 minutes later (urgent)."""
    return (
        Step(level="mention", urgent_minutes=realert_minutes, routine_hours=4),
        Step(level="deputy", urgent_minutes=realert_minutes, routine_hours=4),
        Step(level="email_leads", urgent_minutes=15, routine_hours=8),
        Step(level="email_head", urgent_minutes=30, routine_hours=16),
    )


def check_order(steps: list[Step]) -> None:
    """Levels must come in LEVELS order, each once (a level may be left out)."""
    positions = [LEVELS.index(s.level) for s in steps]
    if positions != sorted(set(positions)):
        raise ValueError(
            "escalation: levels must come once each, in this order: " + ", ".join(LEVELS)
        )
