"""Cyberbullying and online abuse: the CB-* clauses as one pure function.

The assessment decides where the report goes, how urgent it is, which follow-up tasks it
needs and what to tell the member of staff. Tasks only exist for clauses the school has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.domain import harm as harms
from bot.domain.cases import FollowUp
from bot.domain.harm import NATIONAL_SOURCES, sg_guidance
from bot.domain.messages import Guidance
from bot.domain.policy import PolicyPack

Target = Literal["me", "colleague", "pupil"]
PupilAuthor = Literal["yes", "no", "unsure"]
# Consent to involve the police is the member of staff's to give (CB-POLICE). It is only
# asked for a threat against staff; for a pupil it is never asked, and the DSL decides.
PoliceConsent = Literal["given", "declined", "not_asked"]
# A threat may be carried out within the day ("after school tomorrow", "tonight"), so the
# police decision or report it needs is due within hours, the same day, never a day later.
THREAT_DEADLINE = timedelta(hours=2)


@dataclass(frozen=True)
class AbuseFacts:
    target: Target
    threatening: bool
    police_consent: PoliceConsent
    pupil_author: PupilAuthor
    safeguarding: bool
    danger_now: bool = False  # a child is in danger right now: 999 comes first (SG-DANGER)


@dataclass(frozen=True)
class AbuseAssessment:
    team: Literal["dsl", "slt"]
    urgent: bool
    flags: list[str]
    tasks: list[FollowUp]
    guidance: list[Guidance]
    clauses: list[str] = field(default_factory=list)


def assess_abuse(
    pack: PolicyPack, facts: AbuseFacts, now: datetime, *, harm: str | None = None
) -> AbuseAssessment:
    """`harm` is what a report about a pupil involves (SG-HARM-TYPES), if it was asked."""
    safeguarding = facts.safeguarding or facts.target == "pupil"
    team: Literal["dsl", "slt"] = "dsl" if safeguarding else "slt"
    urgent = safeguarding or facts.threatening
    lead = pack.role_label(pack.lead_dsl_role) if team == "dsl" else "senior leadership team"
    guidance: list[Guidance] = []
    flags: list[str] = []
    tasks: list[FollowUp] = []

    if safeguarding:
        # Without a CB-SAFEGUARD section of its own, the DSL route rests on KCSIE (a concern
        # reaches the safeguarding lead as soon as it is identified), never on the section
        # that sends abuse of staff to SLT (Merriott-Haselbury 9.a "Inform SLT immediately").
        guidance.append(
            sg_guidance(
                pack,
                _safeguard_clause(pack),
                f"Because a child may be at risk, this has gone to the {lead} as urgent.",
            )
        )
    else:
        guidance.append(
            pack.guidance("CB-REPORT-SENIOR", "I've reported this to the senior leadership team.")
        )
    nude_image = harm in (harms.NUDES, harms.GROOMING)  # a sexual image may be involved
    if harm is not None:
        guidance.extend(harms.harm_guidance(pack, harm))
        flags.append(f"harm:{harm}")
    if pack.has("CB-NO-ENGAGE"):
        guidance.append(
            pack.guidance("CB-NO-ENGAGE", "Please don't reply to or engage with the posts.")
        )
    if pack.has("CB-EVIDENCE") and not nude_image:  # never a copy of an image of a child
        guidance.append(
            pack.guidance(
                "CB-EVIDENCE",
                "Keep everything: don't delete messages, and screenshot anything new.",
            )
        )
    # Blocking is for the member of staff who is the target (St Ann's Appendix 1: "If you
    # are the target of bullying or abuse online you can take action ... blocking
    # individuals"); for a pupil it may warn an abuser or lose what the DSL needs to see.
    if pack.has("CB-BLOCK") and facts.target == "me" and not nude_image:
        guidance.append(
            pack.guidance("CB-BLOCK", "You can block and report the account on the platform.")
        )

    if facts.threatening:
        police = _police(pack, facts, now, lead, team)
        if police is not None:
            flag, advice, task = police
            flags.append(flag)
            guidance.append(advice)
            tasks.extend(task)
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


def _police(
    pack: PolicyPack, facts: AbuseFacts, now: datetime, lead: str, team: str
) -> tuple[str, Guidance, list[FollowUp]] | None:
    """What a threat means for the police, true to whether consent was asked (CB-POLICE)."""
    if facts.police_consent == "given" and pack.has("CB-POLICE"):
        who = "your" if facts.target == "me" else "your colleague's"
        return (
            "police",
            pack.guidance(
                "CB-POLICE", f"With {who} consent, the school will report this to the police."
            ),
            [
                FollowUp(
                    "CB-POLICE",
                    "Report to the police (staff consent given)",
                    now + THREAT_DEADLINE,
                )
            ],
        )
    if facts.police_consent == "declined" and pack.has("CB-POLICE"):
        if pack.safeguarding.police_without_consent:  # never "the school won't report it"
            who = "You chose not" if facts.target == "me" else "Your colleague hasn't agreed"
            text = (
                f"{who} to involve the police. Where conduct is illegal, the school will "
                "still report it to the police, as the policy says."
            )
        else:
            text = (
                "You chose not to involve the police. If you change your mind, tell the "
                f"{lead}; you can do that at any time."
                if facts.target == "me"
                else "Your colleague hasn't agreed to involving the police, so the school "
                f"won't report it for now. If they agree later, tell the {lead}."
            )
        return "police_consent_declined", pack.guidance("CB-POLICE", text), []
    if facts.police_consent == "not_asked" and facts.target == "pupil" and team == "dsl":
        # The police half rests on the school's CB-POLICE section, or where it has none on
        # KCSIE Part 1 (SG-DANGER: "a referral should be made to children's social care
        # and/or the police immediately"); the DSL half on CB-SAFEGUARD, or KCSIE. Dukeries
        # 2.4 and St Ann's "Safeguarding" say nothing about the police.
        police = "CB-POLICE" if pack.has("CB-POLICE") else "SG-DANGER"
        text = (
            f"Because it is threatening and a pupil is the target, the {lead} will decide "
            "whether to involve the police. "
            # Never "nothing to do" beside "call 999 first" in the same reply.
            + (
                "If anyone is at risk right now, calling 999 yourself is still right."
                if facts.danger_now
                else "You don't need to do anything about that."
            )
        )
        return (
            "police_dsl_to_decide",
            Guidance(police, f"{text} {_cite(pack, police, _safeguard_clause(pack))}"),
            [
                FollowUp(
                    police,
                    "Decide whether to involve the police (threat against a pupil)",
                    now + THREAT_DEADLINE,
                )
            ],
        )
    return None


def _safeguard_clause(pack: PolicyPack) -> str:
    """What sends abuse of a child to the DSL: the school's own section, else KCSIE."""
    return "CB-SAFEGUARD" if pack.has("CB-SAFEGUARD") else "SG-UNFINISHED"


def _cite(pack: PolicyPack, *clauses: str) -> str:
    """One citation for several clauses; one the pack doesn't map cites the national
    guidance it rests on."""
    national = [NATIONAL_SOURCES[c] for c in clauses if not pack.has(c) and c in NATIONAL_SOURCES]
    mapped = pack.cite_all(*clauses)[1:-1]
    parts = [p for p in [mapped, *dict.fromkeys(national)] if p]
    return f"({'; '.join(parts)})"
