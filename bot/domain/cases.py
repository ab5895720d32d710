"""Cases: the record of one report, its status, who owns it and who may see it (X-CONFIDENTIAL)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain import retention_classes as classes
from bot.domain.policy import PolicyPack

# A kind's own rule for a case's retention class: (owning team, flags, answers) -> class.
Classify = Callable[[str, Sequence[str], Mapping[str, Any]], str]
# Flags that mean a DSL case is about a child's safety.
CHILD_FLAGS = ("danger_now", "unfinished")


def about_a_child(team: str, flags: Sequence[str]) -> bool:
    """A DSL case opened because a child may be at risk (danger now, a harm named, an
    unfinished report about a child): a safeguarding record about a child."""
    return team == "dsl" and any(f in CHILD_FLAGS or f.startswith("harm:") for f in flags)


@dataclass(frozen=True)
class CaseKind:
    """A kind of case, declared by the feature whose conversation opens it.

    `code` is the reference prefix (FR-0001) and what the case row stores; the fields are
    the summary keys an alert may show at the pack's "standard" and "full" detail levels
    (X-CONFIDENTIAL)."""

    code: str
    title: str
    dialog: str = ""  # the conversation that opens it, for reading its answers back
    standard_fields: tuple[str, ...] = ()
    full_fields: tuple[str, ...] = ()
    # An approver cannot decide without the business case, which holds no pupil data: its
    # standard fields show even on "minimal" alerts; free text still only on "full".
    always_standard: bool = False
    # How its own summary keys read on an alert, beyond the shared FIELD_LABELS.
    labels: tuple[tuple[str, str], ...] = ()
    # Its retention class (domain.retention_classes): the kind's own rule on what the
    # report found, else by owning team, else `retention`. A DSL can reclassify a case.
    retention: str = classes.STAFF_ABUSE
    retention_by_team: tuple[tuple[str, str], ...] = ()
    classify: Classify | None = None

    def retention_class(
        self, team: str, flags: Sequence[str] = (), details: Mapping[str, Any] | None = None
    ) -> str:
        """The class a case of this kind belongs to, from its owner, flags and answers."""
        if self.classify is not None:
            return self.classify(team, flags, details or {})
        if about_a_child(team, flags):
            return classes.CHILD
        return dict(self.retention_by_team).get(team, self.retention)

    @property
    def value(self) -> str:
        return self.code


@dataclass(frozen=True)
class FollowUp:
    """A task a case opens for its owning team, due by a working-day deadline."""

    clause: str
    title: str
    due: datetime


class CaseStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


def case_reference(kind: CaseKind, number: int) -> str:
    return f"{kind.code}-{number:04d}"


@dataclass(frozen=True)
class Actor:
    """Someone acting in chat: a platform user id plus the roles stored for it."""

    platform: str
    user_id: str
    roles: frozenset[str]
    name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


class NotAllowed(Exception):
    """The actor lacks the role for this action. The message is safe to show them."""


# A case owned by one role rather than a team (a concern about a colleague, KCSIE Part 4):
# it goes to that role's holders by direct message, never to a team channel.
ROLE_TEAM = "role:"


def role_team(role: str) -> str:
    return f"{ROLE_TEAM}{role}"


def role_of_team(team: str) -> str | None:
    """The one role a case belongs to, or None for a team's (DSL, SLT) case."""
    return team.removeprefix(ROLE_TEAM) if team.startswith(ROLE_TEAM) else None


def team_label(pack: PolicyPack, team: str) -> str:
    """Who owns a case, in words: "Safeguarding (DSL)", or "Headteacher only"."""
    role = role_of_team(team)
    if role is not None:
        return f"{pack.role_label(role)} only"
    return {"dsl": "Safeguarding (DSL)", "slt": "Senior leadership (SLT)"}.get(team, team)


def teams_of(pack: PolicyPack, actor: Actor) -> set[str]:
    """The teams whose cases this person handles, and the one-role cases of roles they hold."""
    teams = {pack.roles[r].team for r in actor.roles if r in pack.roles}
    return {team for team in teams if team} | {role_team(r) for r in actor.roles if r in pack.roles}


def can_handle(pack: PolicyPack, actor: Actor, owner_team: str) -> bool:
    return owner_team in teams_of(pack, actor)


def can_view(pack: PolicyPack, actor: Actor, owner_team: str, reporter_key: str) -> bool:
    """Staff see their own cases; only the owning team sees anyone else's."""
    return actor.key == reporter_key or can_handle(pack, actor, owner_team)


def require_handler(pack: PolicyPack, actor: Actor, owner_team: str) -> None:
    if not can_handle(pack, actor, owner_team):
        label = "safeguarding (DSL)" if owner_team == "dsl" else "senior leadership (SLT)"
        raise NotAllowed(f"Only the {label} team can do that. Nothing has changed.")


def alert_fields(
    pack: PolicyPack, kind: CaseKind, summary: dict[str, str]
) -> list[tuple[str, str]]:
    """The label/value pairs an alert may carry; 'minimal' packs show none of the answers."""
    if pack.alerts.detail == "full":
        keys = kind.standard_fields + kind.full_fields
    elif pack.alerts.detail == "standard" or kind.always_standard:
        keys = kind.standard_fields
    else:
        keys = ()
    labels = {**FIELD_LABELS, **dict(kind.labels)}
    return [(labels.get(k, k), summary[k]) for k in keys if summary.get(k)]


FIELD_LABELS = {
    "sender": "From",
    "platform": "Platform",
    "already_accepted": "Already accepted or replied",
    "concerning": "Concerning content",
    "target": "Targeted",
    "threatening": "Threatening",
    "pupil_author": "Posted by a pupil",
    "safeguarding": "Safeguarding concern",
    "evidence": "Evidence files",
    "url": "Link",
    "posted_at": "Posted",
    "description": "What happened",
    "name": "Account",
    "audience": "Audience",
    "aim": "Aim",
    "run_by": "Run by",
}

# How a case's flags read in alerts and case views: short words, never the stored key.
FLAG_LABELS = {
    "police": "police: report with staff consent",
    "police_consent_declined": "police: staff consent not given",
    "police_dsl_to_decide": "police: DSL to decide",
    "behaviour_policy": "behaviour policy",
    "training_needed": "training needed",
    "minimum_age_warning": "platform minimum age",
    # The teacher said yes, or wasn't sure: both take the urgent path, and "may" is true of both.
    "danger_now": "CHILD MAY BE IN DANGER NOW",
    "harm:bullying": "bullying or abuse",
    "harm:threats": "threats of violence",
    "harm:nudes": "nude or semi-nude image of a child (UKCIS)",
    "harm:grooming": "sexual contact or grooming by an adult",
    "harm:self_harm": "self-harm or suicide",
    "harm:extremism": "extremist content",
    "harm:other": "other harm to a child",
    "unfinished": "unfinished report",
}


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag.replace("_", " "))
