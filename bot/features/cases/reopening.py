"""Closing a case's follow-up tasks with it, and reopening a closed case.

A case that is closed has nothing left to follow up, so its open tasks are marked done with
it (no "follow-up due" for a case nobody is working). Its owning team can open it again,
with a reason for the record: the tasks closed with it are open again, the team's alert
says where it stands, and the reporter, told once that it closed, is not told again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from bot.domain.cases import CaseStatus, NotAllowed, require_handler
from bot.domain.messages import Button, Message
from bot.features.cases import alerts, cards
from bot.kernel.core import Kernel
from bot.kernel.registry import Press
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case, CaseTask

log = logging.getLogger(__name__)
MAX_REASON = 2000


def close_tasks(session: SchoolSession, case_id: int, now: datetime, by: str) -> int:
    """Mark the case's open follow-up tasks done as it closes; how many there were."""
    result = session.execute(
        sa.update(CaseTask)
        .where(
            col(CaseTask.school_id) == session.school_id,
            col(CaseTask.case_id) == case_id,
            col(CaseTask.done_at).is_(None),
        )
        .values(done_at=now, done_by=by[:130])
    )
    return repo.rowcount(result)


def reporter_told_closed(session: SchoolSession, ref: str) -> bool:
    """Whether the case was closed before (and so its reporter told)."""
    return any(event.action == "case.closed" for event in repo.timeline(session, ref))


def reopen(press: Press) -> list[Message]:
    """The owning team opens a closed case again, with a reason for its chronology."""
    kernel, session, actor = press.kernel, press.session, press.actor
    case = repo.case_by_ref(session, press.target.ref)
    if case is None or case.id is None:
        return [Message("I can't find that case any more. Nothing has changed.")]
    try:
        require_handler(kernel.pack, actor, case.team)
    except NotAllowed as refusal:
        return [Message(str(refusal))]
    if why := refused(kernel.registry.alerts, case):
        return [Message(why)]
    reason = (press.text or "").strip()
    if not reason:
        return [Message("Please say why it is being reopened. Nothing has changed yet.")]
    if len(reason) > MAX_REASON:
        return [
            Message(f"Please keep it under {MAX_REASON:,} characters. Nothing has changed yet.")
        ]
    now, who = kernel.now(), actor.name or actor.user_id
    closed_at = case.closed_at
    status = CaseStatus.IN_PROGRESS if case.assignee_id else CaseStatus.ACKNOWLEDGED
    values = {
        "status": status.value,
        "closed_at": None,
        "outcome": None,  # the outcome stays in the chronology's "closed" line
        "updated_at": now,
        "acknowledged_at": case.acknowledged_at or now,
    }
    if not repo.transition_case(session, case.id, (CaseStatus.CLOSED.value,), values):
        return [Message(f"{case.ref} is open already. Nothing has changed.")]
    reopened_tasks = 0
    if closed_at is not None:  # the follow-ups that closed with it are open again
        result = session.execute(
            sa.update(CaseTask)
            .where(
                col(CaseTask.school_id) == session.school_id,
                col(CaseTask.case_id) == case.id,
                col(CaseTask.done_at) == closed_at,
            )
            .values(done_at=None, done_by=None)
        )
        reopened_tasks = repo.rowcount(result)
    repo.audit(
        session,
        now,
        actor.key,
        "case.reopened",
        case.ref,
        by=who,
        reason=reason,
        tasks_reopened=reopened_tasks,
    )
    log.info("case %s reopened", case.ref)
    alerts.refresh(kernel, session, case)
    tasks = (
        f" Its {reopened_tasks} follow-up task{'s are' if reopened_tasks > 1 else ' is'} "
        "open again."
        if reopened_tasks
        else ""
    )
    return [
        Message(
            f"{case.ref} is open again ({cards.STATUS_LABELS[status]}).{tasks} The reporter "
            "hasn't been told; when you close it again, they hear only if you write to them."
        )
    ]


def refused(own_alerts: Mapping[str, object], case: Case) -> str | None:
    """Why this case can't be reopened now, or None. A decided request (which has its own
    alert) is not reopened: its requester starts a new one."""
    if case.status != CaseStatus.CLOSED.value:
        return f"{case.ref} is open already. Nothing has changed."
    if case.kind in own_alerts:
        return (
            f"{case.ref} was decided, so it can't be reopened here. The requester can start "
            "a new request. Nothing has changed."
        )
    return None


def team_buttons(kernel: Kernel, case: Case) -> tuple[Button, ...]:
    """What the owning team can do with the case now: its alert's buttons while it is
    open, Reopen once it is closed (unless it was a decided request)."""
    if case.status != CaseStatus.CLOSED.value:
        return cards.case_buttons(case)
    if refused(kernel.registry.alerts, case) is None:
        return (cards.reopen_button(case),)
    return ()


def reopen_refusal(press: Press) -> str | None:
    """Asked before the reason is: who may reopen, and whether this case can be."""
    case = repo.case_by_ref(press.session, press.target.ref)
    if case is None or case.id is None:
        return "I can't find that case any more. Nothing has changed."
    try:
        require_handler(press.kernel.pack, press.actor, case.team)
    except NotAllowed as refusal:
        return str(refusal)
    return refused(press.kernel.registry.alerts, case)
