"""The scheduler's sweep: due reminders become outbox messages, once.

Every instance runs the sweep on a timer (APScheduler). One sweep is one transaction:
claim due reminders (SKIP LOCKED / compare-and-set), write their messages to the outbox,
mark them done, commit. A crash anywhere before the commit rolls it all back and the
next sweep, here or in another instance, takes the same reminders again.

After downtime the overdue reminders of one subject are folded into one message showing
its current state (a comment both past its nudge and its deadline gets one "overdue"
message, not two), and anything already dealt with is closed without a message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot.domain.cases import CaseStatus
from bot.services import cards
from bot.services import comment_cards as cc
from bot.storage import repository as repo
from bot.storage import scheduling
from bot.storage.tables import Case, CaseTask, Comment, OfficialAccount, Reminder

if TYPE_CHECKING:
    from bot.services.bot import BotService

log = logging.getLogger(__name__)
STAGES = ("comment.nudge", "comment.deadline", "comment.escalate")


class ReminderSweep:
    """`batch` bounds one sweep (one short transaction); the scheduler runs sweeps back to
    back while they come back full, so a backlog drains without long locks."""

    def __init__(self, service: BotService, batch: int = 25):
        self.service = service
        self.pack = service.pack
        self.batch = batch

    def sweep(self) -> int:
        """One tick. Returns how many reminders it finished."""
        with self.service.session() as session:
            now = self.service.now()
            claimed = scheduling.claim_due_reminders(session, now, self.batch)
            _preload(session, claimed)
            done: list[tuple[int, str]] = []
            with repo.outbox_batch(session):
                for reminders in _by_subject(claimed).values():
                    *earlier, latest = sorted(reminders, key=_stage)
                    done += [(r.id or 0, "folded into a later one") for r in earlier]
                    done.append((latest.id or 0, self._handle(session, latest, now)))
            scheduling.finish_reminders(session, done, now)
            session.commit()
        if claimed:
            log.info("sweep finished %s reminder(s)", len(claimed))
        return len(claimed)

    def _handle(self, session: Session, reminder: Reminder, now: datetime) -> str:
        if reminder.comment_id is not None:
            return self._comment(session, reminder, now)
        if reminder.kind in ("case.realert", "case.deputy"):
            return self._unacknowledged(session, reminder)
        if reminder.kind == "task.due":
            return self._task(session, reminder)
        if reminder.kind == "annual":
            return self._annual(session, now)
        log.error("unknown reminder kind %s (id %s)", reminder.kind, reminder.id)
        return "unknown kind"

    def _comment(self, session: Session, reminder: Reminder, now: datetime) -> str:
        comment = session.get(Comment, reminder.comment_id)
        account = session.get(OfficialAccount, comment.account_id) if comment else None
        if comment is None or account is None:
            return "comment gone"
        if comment.status not in ("awaiting", "escalated"):
            return f"already {comment.status}"
        moderation = self.service.moderation
        if reminder.kind == "comment.escalate":
            moderation.escalate(
                session,
                comment,
                account,
                "Nobody has marked this comment as replied and the deadline has passed (MO-24H).",
            )
            # The moderators hear it too, so they know SLT are now involved.
            overdue = cc.moderator_nudge(self.pack, comment, account, "escalated", now)
            if comment.author_type != "press":  # SLT had a press enquiry from the start
                moderation.tell_contacts(session, comment, account, overdue)
            return "escalated to SLT"
        if comment.author_type == "press":
            # Journalists are answered by SLT (MO-JOURNALIST): remind them, not the moderators.
            reminder_for_slt = cc.press_reminder(self.pack, comment, account, now)
            for platform in moderation.platforms_for(comment):
                self.service.announce_team(session, platform, "slt", reminder_for_slt)
            return "press enquiry: reminded SLT"
        stage = "nudge" if reminder.kind == "comment.nudge" else "deadline"
        message = cc.moderator_nudge(self.pack, comment, account, stage, now)
        told = moderation.tell_contacts(session, comment, account, message)
        return f"{stage}: told {told} moderator(s)"

    def _unacknowledged(self, session: Session, reminder: Reminder) -> str:
        case = session.get(Case, reminder.case_id)
        if case is None or case.status != CaseStatus.NEW.value:
            return "already acknowledged"
        minutes = int((self.service.now() - case.created_at).total_seconds() // 60)
        team_roles = self.pack.roles_in_team(case.team)
        notify = cards.holder_mentions(self.pack, repo.holders(session, team_roles, case.platform))
        if reminder.kind != "case.deputy":
            message = cc.case_still_new(case, minutes, notify=notify)
            self.service.announce_team(session, case.platform, case.team, message)
            return "re-alerted"
        deputies = [r for r in team_roles if r != self.pack.lead_dsl_role]
        label = " or ".join(self.pack.role_label(r) for r in deputies) or "deputy"
        holders = repo.holders(session, deputies)
        if holders:
            note = f"It has now been sent to the {label} as well."
        else:
            note = f"Nobody holds the {label} role, so it could not be passed on."
        message = cc.case_still_new(case, minutes, note, notify)
        self.service.announce_team(session, case.platform, case.team, message)
        for holder in holders:
            own = f"It has come to you as {self.pack.role_label(holder.role)}."
            self.service.tell_user(
                session,
                holder.platform,
                holder.user_id,
                cc.case_still_new(case, minutes, own),
                case.id,
            )
        return f"sent to {len(holders)} deputy(ies)"

    def _task(self, session: Session, reminder: Reminder) -> str:
        task = session.get(CaseTask, reminder.task_id)
        case = session.get(Case, reminder.case_id)
        if task is None or case is None or task.done_at or case.status == CaseStatus.CLOSED.value:
            return "no longer needed"
        message = cc.task_due(self.pack, case, task)
        self.service.announce_team(session, case.platform, case.team, message)
        return "follow-up reminder sent"

    def _annual(self, session: Session, now: datetime) -> str:
        people = scheduling.known_people(session)
        message = cc.annual_reminder(self.pack)
        for platform, user in sorted(people):
            self.service.tell_user(session, platform, user, message)
        self.schedule_annual(session, after=now + timedelta(days=1))
        return f"reminded {len(people)} people"

    # --- scheduling ----------------------------------------------------------------------

    def schedule_for_case(self, session: Session, case: Case) -> None:
        """Re-alert an unacknowledged urgent DSL case, then pass it to the deputy; remind
        about follow-ups. Routine cases wait for the team's working day: no re-alert."""
        assert case.id is not None
        if case.team == "dsl" and case.urgent:
            step = timedelta(minutes=self.pack.alerts.unacknowledged_realert_minutes)
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

    def schedule_annual(self, session: Session, after: datetime | None = None) -> None:
        """X-ANNUAL: the first working day of the pack's month, at the start of the day."""
        month = self.pack.records.annual_reminder_month
        if month is None:
            return
        moderation = self.service.moderation
        start = (after or self.service.now()).astimezone(moderation.calendar.zone)
        for year in (start.year, start.year + 1):
            day = date(year, month, 1)
            if not moderation.calendar.is_working_day(day):
                day = moderation.calendar.next_working_day(day)
            at = datetime.combine(day, self.pack.calendar.day_starts, moderation.calendar.zone)
            if at >= start:
                scheduling.schedule(session, f"annual:{year}", "annual", at)
                return


def _preload(session: Session, reminders: list[Reminder]) -> None:
    """Load the comments and accounts of a batch in two queries, not two per reminder."""
    ids = {r.comment_id for r in reminders if r.comment_id is not None}
    if ids:
        comments = session.exec(select(Comment).where(col(Comment.id).in_(ids))).all()
        accounts = {c.account_id for c in comments}
        owners = session.exec(select(OfficialAccount).where(col(OfficialAccount.id).in_(accounts)))
        # The identity map holds objects weakly: keep them, so session.get finds them.
        session.info["preloaded"] = [*comments, *owners.all()]


def _by_subject(reminders: list[Reminder]) -> dict[str, list[Reminder]]:
    groups: dict[str, list[Reminder]] = defaultdict(list)
    for r in reminders:
        if r.comment_id is not None:
            groups[f"comment:{r.comment_id}"].append(r)
        elif r.kind in ("case.realert", "case.deputy"):
            groups[f"case:{r.case_id}"].append(r)
        else:
            groups[f"{r.kind}:{r.id}"].append(r)
    return groups


def _stage(reminder: Reminder) -> tuple[int, datetime]:
    order = STAGES.index(reminder.kind) if reminder.kind in STAGES else 0
    if reminder.kind == "case.deputy":
        order = 1
    return (order, reminder.due_at)
