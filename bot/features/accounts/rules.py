"""Approval of new official accounts: one role (AC-APPROVE-ONE) or a chain (AC-APPROVE-CHAIN).

The state is just the stage list and how far it has got; storage adds the guarantee that
each stage is decided once, however many people click at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from bot.domain.cases import Actor, NotAllowed
from bot.domain.policy import PolicyPack


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReasonRequired(Exception):
    """A rejection without a reason; the message is safe to show."""


class AlreadyDecided(Exception):
    """The stage was decided by someone else first; the message is safe to show."""


@dataclass(frozen=True)
class Approval:
    stages: tuple[str, ...]
    current: int = 0
    status: ApprovalStatus = ApprovalStatus.PENDING


@dataclass(frozen=True)
class Decision:
    stage: int
    role: str
    approve: bool
    reason: str | None


MAX_REASON = 1000


def check_turn(pack: PolicyPack, approval: Approval, actor: Actor, stage: int | None) -> str:
    """The role deciding `stage` now, if it is this actor's turn; raises the refusal if not
    (asked before a form opens for a reason, and again when the decision arrives)."""
    if approval.status is not ApprovalStatus.PENDING or stage != approval.current:
        raise AlreadyDecided("This stage has already been decided. The message shows the outcome.")
    role = approval.stages[approval.current]
    if role not in actor.roles:
        raise NotAllowed(
            f"Only the {pack.role_label(role)} can decide this stage. Nothing has changed."
        )
    return role


def decide(
    pack: PolicyPack,
    approval: Approval,
    actor: Actor,
    *,
    approve: bool,
    reason: str | None,
    stage: int,
) -> tuple[Approval, Decision]:
    """Apply one click. `stage` is the stage the button was shown for, so stale clicks fail."""
    role = check_turn(pack, approval, actor, stage)
    reason = (reason or "").strip() or None
    if not approve and not reason:
        raise ReasonRequired(
            "Please give a reason for rejecting, so the requester knows what to change."
        )
    if reason and len(reason) > MAX_REASON:
        raise ReasonRequired(f"Please keep the reason under {MAX_REASON} characters.")
    decision = Decision(stage=approval.current, role=role, approve=approve, reason=reason)
    if not approve:
        return replace(approval, status=ApprovalStatus.REJECTED), decision
    if approval.current + 1 < len(approval.stages):
        return replace(approval, current=approval.current + 1), decision
    return replace(approval, status=ApprovalStatus.APPROVED), decision
