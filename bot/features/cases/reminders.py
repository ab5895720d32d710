"""A case's reminders: the escalation ladder for an alert nobody acknowledges (re-post
with a mention, pass it to the deputies, email the DSL team, email the Headteacher; see
bot/domain/escalation.py), and the team's follow-ups.

Every level is a reminder with its own key, claimed by one sweep in one instance, so each
fires once however many instances run. Acknowledging the case (in chat, the workspace, or
from the email's link) changes its status, and every level still to come does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.domain import escalation
from bot.domain.cases import CaseStatus, role_of_team
from bot.features.cases import cards
from bot.features.cases.emails import escalation_email
from bot.kernel.core import Kernel
from bot.kernel.outbox import ALL_CASES
from bot.kernel.registry import Registry, ReminderKind
from bot.observability import metrics
from bot.storage import repository as repo
from bot.storage import scheduling
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case, CaseTask, Reminder

log = logging.getLogger(__name__)
CHAT_LEVELS = (escalation.MENTION, escalation.DEPUTY)

# Each level's reminder kind and key suffix. The first two keep the names stored since
# version 1, so reminders already in a database still run.
KINDS = {
    escalation.MENTION: ("case.realert", "realert"),
    escalation.DEPUTY: ("case.deputy", "deputy"),
    escalation.EMAIL_LEADS: ("case.email", "email"),
    escalation.EMAIL_HEAD: ("case.head", "head"),
}


def register(registry: Registry) -> None:
    handlers = {
        escalation.MENTION: _unacknowledged,
        escalation.DEPUTY: _unacknowledged,
        escalation.EMAIL_LEADS: _email,
        escalation.EMAIL_HEAD: _email,
    }
    for stage, level in enumerate(escalation.LEVELS):
        kind, _ = KINDS[level]
        subject = _by_case if level in CHAT_LEVELS else _by_level
        registry.add_reminder(ReminderKind(kind, handlers[level], subject, stage=stage))
    registry.add_reminder(ReminderKind("task.due", _task))


def _by_case(reminder: Reminder) -> str:
    """After downtime the chat levels fold into one post (the latest says it all)."""
    return f"case:{reminder.case_id}"


def _by_level(reminder: Reminder) -> str:
    """Each email level goes to different people, so none is folded into another."""
    return f"case:{reminder.case_id}:{reminder.kind}"


def schedule_for_case(kernel: Kernel, session: SchoolSession, case: Case) -> None:
    """The escalation ladder for a safeguarding case (the DSL team's, or one role's), and
    reminders about follow-ups."""
    assert case.id is not None
    for level, due in ladder_times(kernel, case):
        kind, suffix = KINDS[level]
        scheduling.schedule(session, f"case:{case.id}:{suffix}", kind, due, case_id=case.id)
    for task in session.exec(
        select(CaseTask).where(
            col(CaseTask.school_id) == session.school_id, CaseTask.case_id == case.id
        )
    ):
        scheduling.schedule(
            session,
            f"task:{task.id}",
            "task.due",
            task.due_at,
            case_id=case.id,
            task_id=task.id,
        )


def ladder_times(kernel: Kernel, case: Case) -> list[tuple[str, datetime]]:
    """When each level falls due: an urgent case in minutes around the clock, a routine
    one in working hours. A case owned by one role (a concern about a colleague) has no
    deputy and is never emailed to the Headteacher, who may be the person concerned."""
    if case.team != "dsl" and role_of_team(case.team) is None:
        return []  # SLT's cases (accounts, comments) have their own deadlines
    one_role = role_of_team(case.team) is not None
    due, times = case.created_at, list[tuple[str, datetime]]()
    for step in kernel.pack.alerts.ladder:
        if one_role and step.level in (escalation.DEPUTY, escalation.EMAIL_HEAD):
            continue
        if case.urgent:
            due = due + timedelta(minutes=step.urgent_minutes)
        else:
            due = kernel.calendar.add_working_hours(due, step.routine_hours)
        if step.level == escalation.EMAIL_LEADS and "danger_now" in case.flags:
            # A child in danger now (SG-DANGER): the DSL and deputies are emailed at once,
            # not after the chat levels; the later levels keep their own times.
            times.append((step.level, case.created_at))
            continue
        times.append((step.level, due))
    return times


def _waiting(kernel: Kernel, session: SchoolSession, reminder: Reminder) -> Case | None:
    case = session.get(Case, reminder.case_id)
    if case is None or case.status != CaseStatus.NEW.value:
        return None
    return case


def _unacknowledged(kernel: Kernel, session: SchoolSession, reminder: Reminder) -> str:
    pack = kernel.pack
    case = _waiting(kernel, session, reminder)
    if case is None:
        return "already acknowledged"
    minutes = int((kernel.now() - case.created_at).total_seconds() // 60)
    team_roles = pack.roles_in_team(case.team)
    notify = cards.holder_mentions(pack, repo.holders(session, team_roles, case.platform))
    if reminder.kind != "case.deputy":
        message = cards.case_still_new(case, minutes, notify=notify)
        kernel.outbox.announce_team(session, case.platform, case.team, message)
        metrics.escalated(escalation.MENTION)
        return "re-alerted"
    deputies = [r for r in team_roles if r != pack.lead_dsl_role]
    label = " or ".join(pack.role_label(r) for r in deputies) or "deputy"
    holders = repo.holders(session, deputies)
    if holders:
        note = f"It has now been sent to the {label} as well."
    else:
        note = f"Nobody holds the {label} role, so it could not be passed on."
    message = cards.case_still_new(case, minutes, note, notify)
    kernel.outbox.announce_team(session, case.platform, case.team, message)
    for holder in holders:
        own = f"It has come to you as {pack.role_label(holder.role)}."
        kernel.outbox.tell_user(
            session,
            holder.platform,
            holder.user_id,
            cards.case_still_new(case, minutes, own),
            case.id,
        )
    metrics.escalated(escalation.DEPUTY)
    return f"sent to {len(holders)} deputy(ies)"


def email_roles(kernel: Kernel, case: Case, level: str) -> list[str]:
    """Whose holders an email level writes to. A case owned by one role: that role only,
    at every level, so a concern about a colleague never reaches anyone else."""
    role = role_of_team(case.team)
    if role is not None:
        return [role] if level == escalation.EMAIL_LEADS else []
    if level == escalation.EMAIL_LEADS:
        return kernel.pack.roles_in_team(case.team)
    head = kernel.pack.head_role
    return [head] if head else []


def _email(kernel: Kernel, session: SchoolSession, reminder: Reminder) -> str:
    case = _waiting(kernel, session, reminder)
    if case is None:
        return "already acknowledged"
    assert case.id is not None
    level = escalation.EMAIL_HEAD if reminder.kind == "case.head" else escalation.EMAIL_LEADS
    if not kernel.outbox.emails:
        log.warning("%s: escalation email not sent: email is not set up (SMTP_HOST)", case.ref)
        return "email is not set up"
    people: dict[str, bool] = {}  # "platform:user_id": has an address
    for holder in repo.holders(session, email_roles(kernel, case, level)):
        key = f"{holder.platform}:{holder.user_id}"
        people[key] = people.get(key, False) or bool(holder.email)
    waited = int((kernel.now() - case.created_at).total_seconds() // 60)
    kind = kernel.registry.case_kind(case.kind).title
    to_head = level == escalation.EMAIL_HEAD
    message = escalation_email(kernel, case, kind, waited, opens=ALL_CASES if to_head else case.ref)
    emailed = [key for key, has_address in people.items() if has_address]
    for key in emailed:
        kernel.outbox.email(session, key, message, case.id)
    missing = len(people) - len(emailed)
    if missing:
        log.warning(
            "%s: %s person(s) to email have no address; add one with "
            "`schoolbot roles add USER ROLE --email ADDRESS`",
            case.ref,
            missing,
        )
    repo.audit(
        session,
        kernel.now(),
        "system",
        "case.escalated",
        case.ref,
        level=level,
        emailed=len(emailed),
        without_address=missing,
    )
    metrics.escalated(level)
    return f"emailed {len(emailed)}, {missing} without an address"


def _task(kernel: Kernel, session: SchoolSession, reminder: Reminder) -> str:
    task = session.get(CaseTask, reminder.task_id)
    case = session.get(Case, reminder.case_id)
    if task is None or case is None or task.done_at or case.status == CaseStatus.CLOSED.value:
        return "no longer needed"
    message = cards.task_due(kernel.pack, case, task)
    kernel.outbox.announce_team(session, case.platform, case.team, message)
    return "follow-up reminder sent"
