"""Which school's service handles a Teams activity, found before any dialog runs.

A channel's school is its link (`schoolbot teams map-team` / `map-channel`), else the first
school's. A personal chat's is the school where the person holds a role: a press of a
button sealed for one of their schools acts for that school; otherwise, with roles in
several schools, the first of them for now (asking which school a report is about is
issue 25 point 5's), and with none, the first school. A group chat is the first school's.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity

from bot.dispatch import BotService, Trust, UnknownSchool
from bot.platforms.teams import schools
from bot.platforms.teams.button_seal import ButtonSeal
from bot.platforms.teams.installs import user_id
from bot.storage import repository as repo

log = logging.getLogger(__name__)
PLATFORM = "teams"


@dataclass(frozen=True)
class TurnSchool:
    """The service a turn runs in, and the schools its presser may press buttons for."""

    service: BotService
    allowed: frozenset[int]


# Set by the adapter around each activity's processing (each request is its own task).
CURRENT: ContextVar[TurnSchool | None] = ContextVar("teams_turn_school", default=None)


def find(trust: Trust, seal: ButtonSeal, activity: Activity) -> TurnSchool:
    """On a worker thread: it reads the database (the link, or each school's roles)."""
    if schools.is_channel(activity):
        with trust.first.kernel.session() as session:
            school = schools.school_of_channel(session, *schools.where_from(activity))
        try:
            service = trust.service_for(school)
        except UnknownSchool:  # linked to a school not (yet) in the table: its presses
            log.error("Teams: a team is linked to school %s, which doesn't exist", school)
            service = trust.first  # are refused, as another school's
        return TurnSchool(service, frozenset({school}))
    if activity.conversation.conversation_type != "personal":
        return TurnSchool(trust.first, frozenset({trust.first.work.school_id}))
    person = user_id(activity.from_property)
    held = [s.work.school_id for s in trust.services if _holds_a_role(s, person)]
    sealed = _sealed_school(seal, activity.value)
    if sealed is not None and sealed in held:
        chosen = sealed
    elif held:
        chosen = held[0]
        if len(held) > 1:
            log.info("Teams: a person with roles in %d schools; the first is used", len(held))
    else:
        chosen = trust.first.work.school_id
    return TurnSchool(trust.service_for(chosen), frozenset({*held, chosen}))


def _holds_a_role(service: BotService, person: str) -> bool:
    with service.kernel.session() as session:
        return bool(repo.roles_of(session, PLATFORM, person))


def _sealed_school(seal: ButtonSeal, value: Any) -> int | None:
    if not isinstance(value, dict):
        return None
    school = seal.school(value)
    return school if isinstance(school, int) else None
