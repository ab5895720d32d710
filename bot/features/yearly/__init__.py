"""The yearly reminder to re-read the policy (X-ANNUAL): everyone the bot knows hears it
on the first working day of the pack's month, at the start of the school day, with an
"I've read it" button. A press records who confirmed and when (once a year each), so the
governors' report can count confirmations, not only reminders sent."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.domain.messages import Message, Priority
from bot.domain.policy import PolicyPack
from bot.features.yearly import confirm
from bot.features.yearly import queries as yearly_queries
from bot.kernel.core import Kernel
from bot.kernel.registry import Registry, ReminderKind
from bot.observability import metrics
from bot.storage import daily_runs, scheduling
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Reminder


def register(registry: Registry) -> None:
    registry.add_reminder(ReminderKind("annual", _remind))
    registry.schedules.append(schedule)
    registry.add_button(confirm.READ_IT)


def annual_reminder(pack: PolicyPack, year: int) -> Message:
    return Message(
        pack.cited(
            f"Yearly reminder from {pack.school.name}: please take ten minutes to re-read the "
            "social media policy, then press “I've read it”. Message me any time if "
            "something has happened online.",
            "X-ANNUAL",
        ),
        buttons=(confirm.READ_IT.button(confirm.LABEL, confirm.target(year), "primary"),),
    )


def schedule(kernel: Kernel, session: SchoolSession, after: datetime | None = None) -> None:
    """The next yearly reminder on or after `after` (default now), if the pack has one."""
    month = kernel.pack.records.annual_reminder_month
    if month is None:
        return
    calendar = kernel.calendar
    start = (after or kernel.now()).astimezone(calendar.zone)
    for year in (start.year, start.year + 1):
        day = date(year, month, 1)
        if not calendar.is_working_day(day):
            day = calendar.next_working_day(day)
        at = datetime.combine(day, kernel.pack.calendar.day_starts, calendar.zone)
        if at >= start:
            scheduling.schedule(session, f"annual:{year}", "annual", at)
            return


def _remind(kernel: Kernel, session: SchoolSession, reminder: Reminder) -> str:
    """Everyone's message goes into the outbox in the sweep's one transaction, with the
    year's run recorded (bot/storage/daily_runs.py): a kill before the commit undoes
    both, and a year already recorded is never sent again, so each person gets it once."""
    people = yearly_queries.known_people(session)
    year = _year(reminder, kernel)
    schedule(kernel, session, after=kernel.now() + timedelta(days=1))
    first = daily_runs.record_once(
        session,
        session.school_id,
        daily_runs.YEARLY_REMINDER,
        str(year),
        holder=kernel.outbox.instance,
        now=kernel.now(),
        items=len(people),
    )
    metrics.daily_job(daily_runs.YEARLY_REMINDER, "ran" if first else "done_already")
    if not first:
        return f"already sent for {year}"
    message = annual_reminder(kernel.pack, year)
    for platform, user in sorted(people):
        kernel.outbox.tell_user(session, platform, user, message, priority=Priority.BULK)
    return f"reminded {len(people)} people"


def _year(reminder: Reminder, kernel: Kernel) -> int:
    """The reminder's year, from its key ("annual:2027")."""
    _, _, year = reminder.key.partition(":")
    return int(year) if year.isdigit() else kernel.now().astimezone(kernel.clock.zone).year
