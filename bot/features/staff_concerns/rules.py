"""Concerns about a colleague, and staff reporting themselves (SG-ALLEGATION, SG-LOW-LEVEL,
SG-SELF-REPORT; KCSIE Part 4), as pure functions: who receives it, what the member of
staff is told, and the follow-up an allegation needs.

A concern about a colleague goes to one role's holders by direct message, never to a team
channel, and never to a role the person concerned holds: the first role on the pack's
list that they don't hold (by default the Headteacher, or the chair of governors when it
is about the Headteacher).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.domain import retention_classes as classes
from bot.domain.cases import FollowUp, role_team
from bot.domain.deadlines import WorkingCalendar
from bot.domain.harm import sg_guidance
from bot.domain.messages import Guidance
from bot.domain.policy import PolicyPack

Concern = Literal["allegation", "low_level", "self"]
CLAUSES: dict[str, str] = {
    "allegation": "SG-ALLEGATION",
    "low_level": "SG-LOW-LEVEL",
    "self": "SG-SELF-REPORT",
}


@dataclass(frozen=True)
class ConcernFacts:
    concern: Concern
    subject_roles: frozenset[str]  # the roles the reporter says the person holds
    deleted: bool = False  # a self-report: the post is already gone


@dataclass(frozen=True)
class Routing:
    role: str | None  # None: no role on the list is free of the person concerned
    team: str  # the case's owning "team": one role, by direct message (role_team)
    urgent: bool
    guidance: list[Guidance]
    tasks: list[FollowUp]


def route_list(pack: PolicyPack, concern: Concern) -> list[str]:
    """The pack's roles for this concern, in order, that exist in the pack."""
    candidates = {
        "allegation": pack.safeguarding.allegation_to,
        "low_level": pack.safeguarding.low_level_to,
        "self": pack.safeguarding.self_report_to,
    }[concern]
    return [r for r in candidates if r in pack.roles]


def route_for(pack: PolicyPack, concern: Concern, subject_roles: frozenset[str]) -> str | None:
    """The first role on the pack's list for this concern that the person doesn't hold."""
    return next((r for r in route_list(pack, concern) if r not in subject_roles), None)


def lado_due(pack: PolicyPack, now: datetime) -> datetime:
    """KCSIE Part 4: the LADO is told within one working day, on the school's calendar."""
    return WorkingCalendar(pack).add_working_hours(now, pack_day_hours(pack))


def pack_day_hours(pack: PolicyPack) -> float:
    start, end = pack.calendar.day_starts, pack.calendar.day_ends
    return (end.hour * 60 + end.minute - start.hour * 60 - start.minute) / 60


def assess_concern(pack: PolicyPack, facts: ConcernFacts, now: datetime) -> Routing:
    role = route_for(pack, facts.concern, facts.subject_roles)
    who = pack.role_label(role) if role else "the chair of governors"
    clause = CLAUSES[facts.concern]
    guidance: list[Guidance] = []
    tasks: list[FollowUp] = []
    if facts.concern == "self":
        if not facts.deleted:
            guidance.append(sg_guidance(pack, clause, "Please delete the post now, if you can."))
        guidance.append(
            sg_guidance(
                pack,
                clause,
                f"Tell your line manager too. I've sent this privately to the {who} only; "
                "reporting it yourself was the right thing to do.",
            )
        )
    else:
        guidance.append(
            sg_guidance(
                pack,
                clause,
                f"You did the right thing. I've sent this privately to the {who} only: not "
                "to any team channel, and never to the person it is about.",
            )
        )
        guidance.append(
            sg_guidance(
                pack,
                clause,
                "Please don't look into it yourself, and don't tell your colleague or anyone "
                f"else about it. The {who} will decide what happens next.",
            )
        )
    if facts.concern == "allegation":
        tasks.append(
            FollowUp(clause, "Speak to the LADO (within one working day)", lado_due(pack, now))
        )
    if role is None:
        guidance.append(
            sg_guidance(
                pack,
                clause,
                "Nobody else in the bot can receive this, so please also speak to the chair of "
                "governors or your local authority's LADO directly.",
            )
        )
    return Routing(
        role=role,
        team=role_team(role) if role else role_team("nobody"),
        urgent=facts.concern == "allegation",
        guidance=guidance,
        tasks=tasks,
    )


def retention_class(team: str, flags: Sequence[str], details: Mapping[str, Any]) -> str:
    """KCSIE Part 4: an allegation is kept to pension age or 10 years; a low-level concern
    or a self-report at least until the person leaves. Found malicious: reclassified."""
    return classes.ALLEGATION if details.get("concern") == "allegation" else classes.LOW_LEVEL
