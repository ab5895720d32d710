"""What to do about a fake or impersonation account: pure rules over the pack's clauses.

An account pretending to be the school or a member of staff is reported to SLT
(CB-REPORT-SENIOR), reported to the platform and blocked (CB-BLOCK), and parents are
warned through the school's own official accounts, which staff watch (MO-REGULAR).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.domain import retention_classes as classes
from bot.domain.cases import FollowUp, about_a_child
from bot.domain.messages import Guidance
from bot.domain.policy import PolicyPack

Pretends = Literal["school", "me", "colleague"]


@dataclass(frozen=True)
class FakeAccountFacts:
    pretends_to_be: Pretends
    platform: str  # its label, e.g. "Instagram"
    contacting: bool  # messaging pupils or parents, or asking for money or details


@dataclass(frozen=True)
class FakeAccountAdvice:
    guidance: list[Guidance]
    tasks: list[FollowUp]
    urgent: bool
    flags: list[str]


def advise(pack: PolicyPack, facts: FakeAccountFacts, now: datetime) -> FakeAccountAdvice:
    guidance = [
        pack.guidance(
            "CB-REPORT-SENIOR",
            "I've reported this to the senior leadership team, who will deal with it.",
        )
    ]
    if pack.has("CB-NO-ENGAGE"):
        guidance.append(
            pack.guidance("CB-NO-ENGAGE", "Please don't follow, reply to or message the account.")
        )
    if pack.has("CB-BLOCK"):
        guidance.append(
            pack.guidance(
                "CB-BLOCK",
                f"If you can, report it to {facts.platform} as an impersonation account and block it.",
            )
        )
    if pack.has("CB-EVIDENCE"):
        guidance.append(
            pack.guidance(
                "CB-EVIDENCE", "Keep the screenshots, and screenshot anything new it posts."
            )
        )
    if pack.has("MO-REGULAR"):
        warn = (
            "SLT will decide whether to warn parents through the school's official accounts, "
            "so they know which account is really ours."
        )
        guidance.append(pack.guidance("MO-REGULAR", warn))
    # SLT's follow-ups rest on the pack's own clause where it has one, else on the report.
    block = "CB-BLOCK" if pack.has("CB-BLOCK") else "CB-REPORT-SENIOR"
    warn_clause = "MO-REGULAR" if pack.has("MO-REGULAR") else "CB-REPORT-SENIOR"
    due = now + timedelta(hours=24)
    tasks = [
        FollowUp(block, "Report the fake account to the platform", due),
        FollowUp(warn_clause, "Decide whether to warn parents through the official accounts", due),
    ]
    flags = ["contacting_pupils_or_parents"] if facts.contacting else []
    return FakeAccountAdvice(guidance, tasks, urgent=facts.contacting, flags=flags)


def retention_class(team: str, flags: Sequence[str], details: Mapping[str, Any]) -> str:
    """X-RECORD: a fake account messaging pupils, or maybe (or a child in danger from it),
    is a safeguarding record about a child; one contacting only adults (parents asked for
    money) is abuse aimed at staff or the school. Reports made before the pupils question
    was asked ("contacting" only) stay safeguarding records."""
    if "contacting_pupils" in flags or about_a_child(team, flags):
        return classes.CHILD
    if details.get("contacting") and "pupils" not in details:
        return classes.CHILD
    return classes.STAFF_ABUSE
