"""Approving or rejecting an account request, stage by stage (AC-APPROVE-*), and adding
an approved account to the register (AC-REGISTER)."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from bot.domain.cases import CaseStatus, NotAllowed
from bot.domain.messages import Message
from bot.features.accounts import queries as accounts_queries
from bot.features.accounts import rules as approvals
from bot.features.cases import alerts
from bot.features.cases.actions import OPEN
from bot.kernel.registry import ButtonAction, ButtonHandler, Press, Registry
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Approval as ApprovalRow
from bot.storage.tables import ApprovalDecision, Case, OfficialAccount

log = logging.getLogger(__name__)
APPROVE = "approval.approve"
REJECT = "approval.reject"
REJECT_PROMPT = "Why are you rejecting it?"
DECIDED = "This stage has already been decided. The message shows the outcome."


def register(registry: Registry) -> None:
    registry.add_button(ButtonAction(APPROVE, _press(approve=True), refusal))
    registry.add_button(
        ButtonAction(REJECT, _press(approve=False), refusal, asks_for=REJECT_PROMPT)
    )


def refusal(press: Press) -> str | None:
    """Why this person may not decide this stage, asked before a form opens for a reason."""
    case = repo.case_by_ref(press.session, press.target.ref)
    if case is None or case.id is None:
        return "I can't find that case any more. Nothing has changed."
    row = repo.approval_for(press.session, case.id)
    if row is None:
        return DECIDED
    try:
        approvals.check_turn(press.kernel.pack, _state(row), press.actor, press.target.stage)
    except (approvals.AlreadyDecided, NotAllowed) as refused:
        return str(refused)
    return None


def _state(row: ApprovalRow) -> approvals.Approval:
    return approvals.Approval(tuple(row.stages), row.current, approvals.ApprovalStatus(row.status))


def _press(*, approve: bool) -> ButtonHandler:
    def pressed(press: Press) -> list[Message]:
        case = repo.case_by_ref(press.session, press.target.ref)
        if case is None:
            return [Message("I can't find that case any more. Nothing has changed.")]
        try:
            return _decide(press, case, approve=approve)
        except (approvals.ReasonRequired, approvals.AlreadyDecided, NotAllowed) as refused:
            log.info("decision on %s refused: %s", case.ref, type(refused).__name__)
            return [Message(str(refused))]

    return pressed


def _decide(press: Press, case: Case, *, approve: bool) -> list[Message]:
    """`press.text` is the reason for a rejection; the press's stage, the stage it was for."""
    kernel, session, actor = press.kernel, press.session, press.actor
    reason, stage = press.text, press.target.stage
    assert case.id is not None
    row = repo.approval_for(session, case.id)
    if row is None or row.id is None:
        return [Message("That request has no approval to decide. Nothing has changed.")]
    state = _state(row)
    if stage is None:
        stage = row.current
    new_state, decision = approvals.decide(
        kernel.pack, state, actor, approve=approve, reason=reason, stage=stage
    )
    now = kernel.now()
    who = actor.name or actor.user_id
    try:
        with session.begin_nested():
            session.add(
                ApprovalDecision(
                    approval_id=row.id,
                    stage=decision.stage,
                    role=decision.role,
                    actor=actor.key,
                    approve=approve,
                    reason=decision.reason,
                    decided_at=now,
                )
            )
            session.flush()
    except sa.exc.IntegrityError:
        raise approvals.AlreadyDecided(
            "Someone else decided this stage a moment ago. The message shows the outcome."
        ) from None
    if not accounts_queries.advance_approval(
        session,
        row.id,
        decision.stage,
        {"current": new_state.current, "status": new_state.status.value},
    ):
        raise approvals.AlreadyDecided("This stage has already been decided.")
    label = kernel.pack.role_label(decision.role)
    action = "approval.approved" if approve else "approval.rejected"
    repo.audit(
        session,
        now,
        actor.key,
        action,
        case.ref,
        by=who,
        role=decision.role,
        role_label=label,
        stage=decision.stage,
        reason=decision.reason,
    )
    if new_state.status is approvals.ApprovalStatus.PENDING:
        alerts.refresh(kernel, session, case)
        return [
            Message(
                f"Approved as the {label}. It now goes to the "
                f"{kernel.pack.role_label(new_state.stages[new_state.current])}."
            )
        ]
    outcome = "approved" if approve else f"rejected: {decision.reason}"
    repo.transition_case(
        session,
        case.id,
        OPEN,
        {
            "status": CaseStatus.CLOSED.value,
            "outcome": outcome,
            "closed_at": now,
            "updated_at": now,
        },
    )
    if approve:
        _register(session, case, now)
    alerts.refresh(kernel, session, case)
    event = "approved" if approve else "rejected"
    alerts.notify_reporter(kernel, session, case, event, who, detail=decision.reason)
    return [
        Message(
            f"Done: {case.ref} is {'approved' if approve else 'rejected'}. "
            "The requester has been told."
        )
    ]


def _register(session: SchoolSession, case: Case, now: datetime) -> None:
    details = case.details
    moderators = details.get("moderators") or details.get("run_by") or []
    session.add(
        OfficialAccount(
            name=details.get("name", case.ref),
            purpose=details.get("aim", ""),
            platform=case.summary.get("platform", ""),
            author=details.get("author") or ", ".join(details.get("run_by") or []),
            approved_on=now,
            status="open",
            moderators=list(moderators),
            case_id=case.id,
            # The requester gets the comment nudges until an admin adds more contacts.
            contacts=[f"{case.platform}:{case.reporter_id}"],
        )
    )
    repo.audit(session, now, "system", "register.added", case.ref, name=details.get("name"))
