"""Cases: the record of one report, its status, who owns it and who may see it (X-CONFIDENTIAL)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.policy import PolicyPack


class CaseKind(StrEnum):
    FRIEND_REQUEST = "FR"
    ABUSE = "CB"
    ACCOUNT_REQUEST = "AC"

    @property
    def title(self) -> str:
        return {
            CaseKind.FRIEND_REQUEST: "Friend or follow request",
            CaseKind.ABUSE: "Cyberbullying or online abuse",
            CaseKind.ACCOUNT_REQUEST: "New official account request",
        }[self]


class CaseStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


def case_reference(kind: CaseKind, number: int) -> str:
    return f"{kind.value}-{number:04d}"


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


def teams_of(pack: PolicyPack, actor: Actor) -> set[str]:
    return {pack.roles[r].team for r in actor.roles if r in pack.roles and pack.roles[r].team}


def can_handle(pack: PolicyPack, actor: Actor, owner_team: str) -> bool:
    return owner_team in teams_of(pack, actor)


def can_view(pack: PolicyPack, actor: Actor, owner_team: str, reporter_key: str) -> bool:
    """Staff see their own cases; only the owning team sees anyone else's."""
    return actor.key == reporter_key or can_handle(pack, actor, owner_team)


def require_handler(pack: PolicyPack, actor: Actor, owner_team: str) -> None:
    if not can_handle(pack, actor, owner_team):
        label = "safeguarding (DSL)" if owner_team == "dsl" else "senior leadership (SLT)"
        raise NotAllowed(f"Only the {label} team can do that. Nothing has changed.")


# What a case may show in a channel alert, by the pack's detail level (X-CONFIDENTIAL).
STANDARD_FIELDS = {
    CaseKind.FRIEND_REQUEST: ("sender", "platform", "already_accepted", "concerning"),
    CaseKind.ABUSE: (
        "target",
        "platform",
        "threatening",
        "pupil_author",
        "safeguarding",
        "evidence",
    ),
    CaseKind.ACCOUNT_REQUEST: ("name", "platform", "audience"),
}
FULL_FIELDS = {
    CaseKind.FRIEND_REQUEST: (),
    CaseKind.ABUSE: ("url", "posted_at", "description"),
    CaseKind.ACCOUNT_REQUEST: ("aim", "run_by"),
}


def alert_fields(
    pack: PolicyPack, kind: CaseKind, summary: dict[str, str]
) -> list[tuple[str, str]]:
    """The label/value pairs an alert may carry; 'minimal' packs show none of the answers."""
    if pack.alerts.detail == "minimal":
        keys: tuple[str, ...] = ()
    elif pack.alerts.detail == "standard":
        keys = STANDARD_FIELDS[kind]
    else:
        keys = STANDARD_FIELDS[kind] + FULL_FIELDS[kind]
    if kind is CaseKind.ACCOUNT_REQUEST:
        # An approver cannot decide without the business case, and it holds no pupil data.
        keys = STANDARD_FIELDS[kind] + FULL_FIELDS[kind]
    return [(FIELD_LABELS.get(k, k), summary[k]) for k in keys if summary.get(k)]


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
}


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag.replace("_", " "))
