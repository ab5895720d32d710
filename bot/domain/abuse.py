"""Cyberbullying and online abuse: the CB-* clauses as one pure function.

The assessment decides where the report goes, how urgent it is, which follow-up tasks it
needs and what to tell the member of staff. Tasks only exist for clauses the school has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.domain.messages import Guidance
from bot.domain.policy import PolicyPack

Target = Literal["me", "colleague", "pupil"]
PupilAuthor = Literal["yes", "no", "unsure"]


@dataclass(frozen=True)
class AbuseFacts:
    target: Target
    threatening: bool
    police_consent: bool | None
    pupil_author: PupilAuthor
    safeguarding: bool


@dataclass(frozen=True)
class FollowUp:
    clause: str
    title: str
    due: datetime


@dataclass(frozen=True)
class AbuseAssessment:
    team: Literal["dsl", "slt"]
    urgent: bool
    flags: list[str]
    tasks: list[FollowUp]
    guidance: list[Guidance]
    clauses: list[str] = field(default_factory=list)


def assess_abuse(pack: PolicyPack, facts: AbuseFacts, now: datetime) -> AbuseAssessment:
    safeguarding = facts.safeguarding or facts.target == "pupil"
    team: Literal["dsl", "slt"] = "dsl" if safeguarding else "slt"
    urgent = safeguarding or facts.threatening
    lead = pack.role_label(pack.lead_dsl_role) if team == "dsl" else "senior leadership team"
    guidance: list[Guidance] = []
    flags: list[str] = []
    tasks: list[FollowUp] = []

    if safeguarding:
        clause = "CB-SAFEGUARD" if pack.has("CB-SAFEGUARD") else "CB-REPORT-SENIOR"
        guidance.append(
            pack.guidance(
                clause,
                f"Because a child may be at risk, this has gone to the {lead} as urgent.",
            )
        )
    else:
        guidance.append(
            pack.guidance("CB-REPORT-SENIOR", "I've reported this to the senior leadership team.")
        )
    if pack.has("CB-NO-ENGAGE"):
        guidance.append(
            pack.guidance("CB-NO-ENGAGE", "Please don't reply to or engage with the posts.")
        )
    if pack.has("CB-EVIDENCE"):
        guidance.append(
            pack.guidance(
                "CB-EVIDENCE",
                "Keep everything: don't delete messages, and screenshot anything new.",
            )
        )
    if pack.has("CB-BLOCK"):
        guidance.append(
            pack.guidance("CB-BLOCK", "You can block and report the account on the platform.")
        )

    if facts.threatening and pack.has("CB-POLICE"):
        if facts.police_consent:
            flags.append("police")
            guidance.append(
                pack.guidance(
                    "CB-POLICE",
                    "With your consent, the school will report this to the police.",
                )
            )
            tasks.append(
                FollowUp(
                    "CB-POLICE",
                    "Report to the police (staff consent given)",
                    now + timedelta(hours=24),
                )
            )
        else:
            flags.append("police_consent_declined")
            guidance.append(
                pack.guidance(
                    "CB-POLICE",
                    "You chose not to involve the police. You can change your mind at any time.",
                )
            )
    if facts.pupil_author in ("yes", "unsure") and pack.has("CB-PUPIL-AUTHOR"):
        flags.append("behaviour_policy")
        guidance.append(
            pack.guidance(
                "CB-PUPIL-AUTHOR",
                "If a pupil posted it, it will be handled under the behaviour policy.",
            )
        )
    if pack.has("CB-REMOVAL-24H"):
        tasks.append(
            FollowUp(
                "CB-REMOVAL-24H",
                "Ask the site to remove the material, then check it has gone",
                now + timedelta(hours=24),
            )
        )
    if facts.target in ("me", "colleague") and pack.has("CB-SUPPORT"):
        who = "you" if facts.target == "me" else "your colleague"
        guidance.append(
            pack.guidance(
                "CB-SUPPORT",
                f"The school will offer {who} full support, including counselling.",
            )
        )
        tasks.append(
            FollowUp(
                "CB-SUPPORT",
                "Offer support and counselling to the member of staff",
                now + timedelta(days=2),
            )
        )
    return AbuseAssessment(
        team=team,
        urgent=urgent,
        flags=flags,
        tasks=tasks,
        guidance=guidance,
        clauses=[g.clause for g in guidance],
    )
