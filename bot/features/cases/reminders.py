"""A case's reminders: re-alert an urgent case nobody has acknowledged, then pass it to
the deputies; remind the team about follow-ups (the kinds stored since version 1)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.domain.cases import CaseStatus
from bot.features.cases import cards
from bot.kernel.core import Kernel
from bot.kernel.registry import Registry, ReminderKind
from bot.storage import repository as repo
from bot.storage import scheduling
from bot.storage.tables import Case, CaseTask, Reminder


def register(registry: Registry) -> None:
    by_case = _by_case
    registry.add_reminder(ReminderKind("case.realert", _unacknowledged, by_case, stage=0))
    registry.add_reminder(ReminderKind("case.deputy", _unacknowledged, by_case, stage=1))
    registry.add_reminder(ReminderKind("task.due", _task))


def _by_case(reminder: Reminder) -> str:
    return f"case:{reminder.case_id}"


def schedule_for_case(kernel: Kernel, session: Session, case: Case) -> None:
    """Re-alert an unacknowledged urgent DSL case, then pass it to the deputy; remind
    about follow-ups. Routine cases wait for the team's working day: no re-alert."""
    assert case.id is not None
    if case.team == "dsl" and case.urgent:
        step = timedelta(minutes=kernel.pack.alerts.unacknowledged_realert_minutes)
        scheduling.schedule(
            session,
            f"case:{case.id}:realert",
            "case.realert",
            case.created_at + step,
            case_id=case.id,
        )
        scheduling.schedule(
            session,
            f"case:{case.id}:deputy",
            "case.deputy",
            case.created_at + 2 * step,
            case_id=case.id,
        )
    for task in session.exec(select(CaseTask).where(CaseTask.case_id == case.id)):
        scheduling.schedule(
            session,
            f"task:{task.id}",
            "task.due",
            task.due_at,
            case_id=case.id,
            task_id=task.id,
        )


def _unacknowledged(kernel: Kernel, session: Session, reminder: Reminder) -> str:
    pack = kernel.pack
    case = session.get(Case, reminder.case_id)
    if case is None or case.status != CaseStatus.NEW.value:
        return "already acknowledged"
    minutes = int((kernel.now() - case.created_at).total_seconds() // 60)
    team_roles = pack.roles_in_team(case.team)
    notify = cards.holder_mentions(pack, repo.holders(session, team_roles, case.platform))
    if reminder.kind != "case.deputy":
        message = cards.case_still_new(case, minutes, notify=notify)
        kernel.outbox.announce_team(session, case.platform, case.team, message)
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
    return f"sent to {len(holders)} deputy(ies)"


def _task(kernel: Kernel, session: Session, reminder: Reminder) -> str:
    task = session.get(CaseTask, reminder.task_id)
    case = session.get(Case, reminder.case_id)
    if task is None or case is None or task.done_at or case.status == CaseStatus.CLOSED.value:
        return "no longer needed"
    message = cards.task_due(kernel.pack, case, task)
    kernel.outbox.announce_team(session, case.platform, case.team, message)
    return "follow-up reminder sent"
