"""Opening a case when a conversation finishes: the record, its tasks and evidence, the
approval it waits for, the team's alert, its reminders, and the reporter's reply.
Every conversation that opens a case registers `finish` as its finish."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bot.dialogs.engine import REMOVED_FILES, UPLOAD_REFUSED, UPLOAD_REFUSED_EVENT
from bot.dialogs.outcome import Outcome
from bot.domain.cases import Actor, CaseStatus, case_reference, role_of_team
from bot.domain.messages import MENTION, Message
from bot.features.cases import alerts, reminders, retention
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Approval, Case, CaseTask, Evidence

log = logging.getLogger(__name__)
GUIDANCE_GIVEN = "guidance_given"  # the key in Case.details


def finish(
    kernel: Kernel, session: SchoolSession, actor: Actor, name: str, outcome: Outcome
) -> list[Message]:
    """The advice, and a case for the owning team when the outcome calls for one."""
    advice = "\n".join(f"• {g.text}" for g in outcome.guidance)
    lead = f"Here's what to do:\n{advice}\n\n" if advice else ""
    if outcome.joins is not None:
        return [complete(kernel, session, actor, outcome, lead)]
    if not outcome.open_case:
        repo.audit(
            session,
            kernel.now(),
            actor.key,
            "advice.given",
            actor.key,
            dialog=name,
            clauses=[g.clause for g in outcome.guidance],
        )
        return [Message(f"{lead}{outcome.closing}".strip())]
    case = open_case(kernel, session, actor, outcome)
    if outcome.closing:  # the conversation says what happens next (an approval)
        next_step = outcome.closing
    elif outcome.urgent:
        next_step = (
            "Someone will pick it up as soon as possible, and I'll message you when they do."
        )
    else:
        next_step = "I'll message you when someone picks it up. You don't need to do anything else."
    return [Message(f"{lead}Your reference is {case.ref}. {next_step}")]


def raise_alarm(
    kernel: Kernel, session: SchoolSession, actor: Actor, outcome: Outcome
) -> tuple[str, list[Message]]:
    """A child in danger now (SG-DANGER): the urgent case opens before the last question,
    and the member of staff is told at once what to do; the rest of the report joins it."""
    case = open_case(kernel, session, actor, outcome)
    advice = "".join(f"• {g.text}\n" for g in outcome.guidance)
    told = (
        f"{advice}I've sent an urgent alert to {_owners(kernel, case.team)} now (reference "
        f"{case.ref}). Next, a few more questions: your answers join the same case."
    )
    return case.ref, [Message(told.strip())]


def complete(
    kernel: Kernel, session: SchoolSession, actor: Actor, outcome: Outcome, lead: str
) -> Message:
    """The rest of a report whose case an alarm opened: the same case, brought up to date,
    never a second one and never less urgent than the alarm made it."""
    case = repo.case_by_ref(session, outcome.joins or "")
    if case is None or case.reporter_id != actor.user_id or case.disposed_at is not None:
        case = open_case(kernel, session, actor, outcome)
        return Message(f"{lead}Your reference is {case.ref}.")
    now = kernel.now()
    case.summary = {**case.summary, **outcome.summary}
    case.details = {
        **case.details,
        **outcome.details,
        GUIDANCE_GIVEN: [
            *case.details.get(GUIDANCE_GIVEN, []),
            *([g.clause, g.text] for g in outcome.guidance),
        ],
    }
    # Finished now: no longer an unfinished report; and what it involves is what the final
    # answers say (a category changed with "back" after the alarm is not kept).
    flags = [f for f in case.flags if f != "unfinished" and not f.startswith("harm:")]
    case.flags = list(dict.fromkeys([*flags, *outcome.flags]))
    case.guidance = list(dict.fromkeys([*case.guidance, *(g.clause for g in outcome.guidance)]))
    case.updated_at = now
    retention.classify_on_completion(outcome.kind, case)
    session.add(case)
    assert case.id is not None
    _add_tasks_and_evidence(session, case.id, actor, outcome, now)
    repo.audit(session, now, actor.key, "case.completed", case.ref, by=actor.name)
    _chronicle_removed_files(session, actor, case.ref, outcome, now)
    alerts.refresh(kernel, session, case)
    return Message(
        f"{lead}Thank you. I've added all of this to {case.ref}. It is already with "
        f"{_owners(kernel, case.team)} as urgent."
    )


def stopped(
    kernel: Kernel, session: SchoolSession, actor: Actor, case: str, details: dict[str, Any]
) -> None:
    """A report an alarm opened, stopped by its reporter part-way: what it said so far
    joins the case, and the chronology says the reporter stopped (the case stays open)."""
    row = repo.case_by_ref(session, case)
    if row is None or row.reporter_id != actor.user_id or row.disposed_at is not None:
        return
    now = kernel.now()
    row.details = {**row.details, **details}
    row.updated_at = now
    session.add(row)
    repo.audit(session, now, actor.key, "case.report_stopped", row.ref, by=actor.name)
    alerts.refresh(kernel, session, row)


def _owners(kernel: Kernel, team: str) -> str:
    """Who an urgent alert reached, in words."""
    pack = kernel.pack
    role = role_of_team(team)
    if role is not None:
        return f"the {pack.role_label(role)} (only)"
    if team == "dsl":
        return f"the {pack.role_label(pack.lead_dsl_role)} and deputies"
    return "the senior leadership team"


def _add_tasks_and_evidence(
    session: SchoolSession, case_id: int, actor: Actor, outcome: Outcome, now: datetime
) -> None:
    for task in outcome.tasks:
        session.add(
            CaseTask(case_id=case_id, clause=task.clause, title=task.title, due_at=task.due)
        )
    # A file already on the case (the same SHA-256, e.g. kept when an alarm opened it) is
    # kept once.
    have = set(
        session.exec(
            select(Evidence.sha256).where(
                col(Evidence.school_id) == session.school_id, Evidence.case_id == case_id
            )
        ).all()
    )
    for item in outcome.evidence:
        if item["sha256"] in have:
            continue
        have.add(item["sha256"])
        session.add(
            Evidence(
                case_id=case_id,
                filename=item["filename"],
                content_type=item["content_type"],
                size=item["size"],
                sha256=item["sha256"],
                uploaded_by=actor.key,
                uploaded_at=now,
            )
        )


def _chronicle_removed_files(
    session: SchoolSession, actor: Actor, ref: str, outcome: Outcome, now: datetime
) -> None:
    """Files deleted unseen (SG-NUDES) are named in the case's chronology by hash only,
    once (an alarm's case may have named them already)."""
    named = {
        e.detail.get("sha256")
        for e in repo.timeline(session, ref)
        if e.action == "evidence.removed"
    }
    for item in outcome.details.get(REMOVED_FILES) or []:
        if item.get("sha256") not in named:
            sha256 = item.get("sha256", "")
            repo.audit(session, now, actor.key, "evidence.removed", ref, sha256=sha256)
    # A file refused unkept before the case opened: the reporter may hold a copy.
    if outcome.details.get(UPLOAD_REFUSED) and not any(
        e.action == UPLOAD_REFUSED_EVENT for e in repo.timeline(session, ref)
    ):
        repo.audit(session, now, actor.key, UPLOAD_REFUSED_EVENT, ref)


def open_case(kernel: Kernel, session: SchoolSession, actor: Actor, outcome: Outcome) -> Case:
    now = kernel.now()
    number = repo.next_number(session, outcome.kind.code)
    case = Case(
        ref=case_reference(outcome.kind, number),
        kind=outcome.kind.code,
        status=CaseStatus.NEW.value,
        team=outcome.team,
        urgent=outcome.urgent,
        platform=actor.platform,
        reporter_id=actor.user_id,
        reporter_name=_display_name(actor.name),
        summary=outcome.summary,
        # The advice exactly as the reporter read it, for the record and the bundle.
        details={
            **outcome.details,
            GUIDANCE_GIVEN: [[g.clause, g.text] for g in outcome.guidance],
        },
        flags=outcome.flags,
        guidance=[g.clause for g in outcome.guidance],
        created_at=now,
        updated_at=now,
    )
    retention.classify_on_opening(outcome.kind, case)
    session.add(case)
    session.flush()
    assert case.id is not None
    _add_tasks_and_evidence(session, case.id, actor, outcome, now)
    repo.audit(
        session,
        now,
        actor.key,
        "case.opened",
        case.ref,
        team=case.team,
        urgent=case.urgent,
        clauses=case.guidance,
        by=actor.name,
    )
    _chronicle_removed_files(session, actor, case.ref, outcome, now)
    if outcome.approval_stages:
        approval = Approval(case_id=case.id, stages=list(outcome.approval_stages), status="pending")
        session.add(approval)
        session.flush()
    message = alerts.alert_for(kernel, session, case, [])
    kernel.outbox.announce(
        session, case.id, actor.platform, case.team, message, replaces_first=False
    )
    reminders.schedule_for_case(kernel, session, case)
    log.info("case %s opened for team %s (urgent=%s)", case.ref, case.team, case.urgent)
    return case


def _display_name(name: str | None) -> str | None:
    """A name to keep on the case; Slack gives a mention tag, which is no name at all."""
    if not name or MENTION.fullmatch(name):
        return None
    return name[:200]
