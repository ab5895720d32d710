"""What a finished conversation hands to the service: a case to open, or just advice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.cases import CaseKind, FollowUp
from bot.domain.messages import Guidance


@dataclass(frozen=True)
class Outcome:
    kind: CaseKind
    open_case: bool
    team: str
    urgent: bool
    guidance: list[Guidance]
    summary: dict[str, str]  # short, labelled facts an alert may show (see cases.alert_fields)
    details: dict[str, Any]  # every answer; shown only to the owning team and the reporter
    flags: list[str] = field(default_factory=list)
    tasks: list[FollowUp] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    approval_stages: tuple[str, ...] = ()
    closing: str = ""
    # The case an earlier alarm opened (SG-DANGER): finishing completes it, not a new one.
    joins: str | None = None
