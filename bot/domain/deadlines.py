"""The school's working calendar and the MO-24H reply deadline.

The rule (also in docs/accounts-and-comments.md):
- A comment received on a working day is due `reply_within_hours` later, counted on the
  wall clock in the school's timezone. If that moment falls on a day the school is shut
  (weekend, bank holiday, closure), it moves to the same time on the next working day:
  Friday 15:00 is due Monday 15:00.
- A comment received on a day the school is shut is due by the end of the next working
  day (`day_ends`), "on the next working day" as the policy says.
- Times are wall-clock times, so a deadline across a clock change keeps its hour: Friday
  15:00 BST is due Monday 15:00 GMT.
- With `weekend_to_next_working_day = false` the deadline is simply the elapsed hours.

Bank holidays come from the maintained `holidays` package for the pack's nation; the
school's own closures (term breaks, INSET days) come from the pack.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from bot.domain.policy import PolicyPack

SUBDIVISION = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WorkingCalendar:
    def __init__(self, pack: PolicyPack):
        self.calendar = pack.calendar
        self.comments = pack.comments
        self.zone = ZoneInfo(self.calendar.timezone)
        self._working = {WEEKDAYS.index(d) for d in self.calendar.working_days}

    @cached_property
    def bank_holidays(self) -> holidays.HolidayBase:
        # Years are filled in lazily by the package as dates are looked up.
        return holidays.country_holidays("GB", subdiv=SUBDIVISION[self.calendar.nation])

    def closed_because(self, day: date) -> str | None:
        """Why the school is shut that day (for messages), or None on a working day."""
        if day.weekday() not in self._working:
            return "the weekend" if day.weekday() >= 5 else "a non-working day"
        if day in self.bank_holidays:
            return str(self.bank_holidays.get(day))
        for closure in self.calendar.closures:
            if closure.start <= day <= closure.end:
                return closure.name
        return None

    def is_working_day(self, day: date) -> bool:
        return self.closed_because(day) is None

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day` (a year at most: packs are validated)."""
        for offset in range(1, 367):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("the calendar has no working day within a year")

    def reply_deadline(self, received: datetime) -> datetime:
        """MO-24H: when a reply (or at least an acknowledgement) is due, as aware UTC."""
        hours = self.comments.reply_within_hours
        if not self.comments.weekend_to_next_working_day:
            return received.astimezone(UTC) + timedelta(hours=hours)
        local = received.astimezone(self.zone).replace(tzinfo=None)
        if not self.is_working_day(local.date()):
            day = self.next_working_day(local.date())
            return self._to_utc(datetime.combine(day, self.calendar.day_ends))
        due = local + timedelta(hours=hours)
        if not self.is_working_day(due.date()):
            due = datetime.combine(self.next_working_day(due.date()), due.time())
        return self._to_utc(due)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """`hours` of the school's working time after `start` (aware UTC): the LADO within
        one working day, an unfinished report after one working hour (SG-UNFINISHED)."""
        left = timedelta(hours=hours)
        local = start.astimezone(self.zone).replace(tzinfo=None)
        day_starts, day_ends = self.calendar.day_starts, self.calendar.day_ends
        for _ in range(400):  # a year of working days at most (packs are validated)
            if self.is_working_day(local.date()) and local.time() < day_ends:
                begin = max(local, datetime.combine(local.date(), day_starts))
                end = datetime.combine(local.date(), day_ends)
                if begin + left <= end:
                    return self._to_utc(begin + left)
                left -= end - begin
            local = datetime.combine(self.next_working_day(local.date()), day_starts)
        raise ValueError("the calendar has no working time within a year")

    def nudge_time(self, deadline: datetime) -> datetime:
        return deadline - timedelta(hours=self.comments.nudge_before_hours)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def _to_utc(self, wall: datetime) -> datetime:
        """Wall-clock time to UTC. A time skipped by the spring change is read as after it."""
        aware = wall.replace(tzinfo=self.zone)
        round_trip = aware.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None)
        if round_trip != wall:  # in the gap (e.g. 01:30 on the last Sunday in March)
            aware = (wall + timedelta(hours=1)).replace(tzinfo=self.zone)
        return aware.astimezone(UTC)
