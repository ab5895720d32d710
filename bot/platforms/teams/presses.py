"""A pressed card button, checked before any turn runs: its seal, then its school.

The button's data must carry a signature one of our keys made (button_seal.py), and the
school sealed in it must be the conversation's: a channel's team's school, or in a
personal chat one of the presser's schools. Only then does the press reach the feature
that owns the button, which checks the presser's role (read on the server, never from
the card). A refused press changes nothing and gets a short private note; the log line
names no one and quotes nothing.

Answer buttons on cards sent before buttons were signed still work, as typing the
answer would; record buttons on them are refused (anyone could have written them).
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext

from bot.dispatch import BotService
from bot.kernel.core import Kernel
from bot.platforms.teams import schools, turn_school
from bot.platforms.teams.button_seal import ButtonSeal, Seal
from bot.platforms.teams.cards import ACTION, CHOICE
from bot.platforms.teams.installs import user_id

log = logging.getLogger(__name__)
SCHOOL_KEY = "schoolbot.school"  # in turn_state: the school a checked press acts for
FORGED = (
    "Sorry, I can't act on that button: it isn't one I sent, or it has been changed. "
    "Nothing has changed. Type help to see what I can do."
)
OLD_CARD = (
    "That button is on a card from before an update, so I can't act on it and nothing has "
    "changed. Type case and the reference (for example: case FR-0001) to get the case with "
    "buttons that work."
)
OTHER_SCHOOL = {
    "team": (
        "That button belongs to a different school from this team, so I haven't acted on "
        "it and nothing has changed. If this team is that school's, your IT lead can link "
        "it to the school (schoolbot teams map-team)."
    ),
    "chat": (
        "That button belongs to a school you don't hold a role in, so I haven't acted on "
        "it and nothing has changed."
    ),
}


async def refusal(
    service: BotService, seal: ButtonSeal, turn_context: TurnContext, data: dict[str, Any]
) -> str | None:
    """Why this press may not go ahead, or None (and its school is in the turn state)."""
    if data.get("schoolbot") not in (CHOICE, ACTION):
        return None  # not a button of ours: the turn says so itself
    activity = turn_context.activity
    sealed = seal.school(data)
    if sealed is Seal.UNSIGNED:
        if data.get("schoolbot") == CHOICE:
            return None
        log.info("Teams: a record button from an unsigned card was refused")
        return OLD_CARD
    if sealed is Seal.FORGED:
        log.warning("Teams: a card button failed its signature check and was refused")
        return FORGED
    if schools.is_channel(activity):
        allowed = {await service.work.run(_channel_school, service.kernel, turn_context)}
        where = "team"
    else:
        turn = turn_school.CURRENT.get()
        allowed = (
            set(turn.allowed)
            if turn is not None
            else schools.schools_of_conversation(activity, user_id(activity.from_property))
        )
        where = "chat"
    if sealed not in allowed:
        log.warning("Teams: a signed card button for another school was refused")
        return OTHER_SCHOOL[where]
    turn_context.turn_state[SCHOOL_KEY] = sealed
    return None


def _channel_school(kernel: Kernel, turn_context: TurnContext) -> int:
    with kernel.session() as session:
        return schools.school_of_channel(session, *schools.where_from(turn_context.activity))


def school_of(turn_context: TurnContext) -> int:
    """The school this turn's replies are sealed for: a checked press's, else the first."""
    school = turn_context.turn_state.get(SCHOOL_KEY)
    return school if isinstance(school, int) else schools.DEFAULT_SCHOOL
