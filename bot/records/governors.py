"""The termly report for governors: aggregates only, small counts suppressed.

Terms follow the school year in the school's timezone: autumn is 1 September to
31 December, spring 1 January to 31 March, summer 1 April to 31 August (Easter moves, so
the boundary is fixed at the end of March). Any count below 3, zero included, is shown as
"fewer than 3" so that nobody can be picked out from a small number; a share or a time
worked out from fewer than 3 items is not shown either.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.storage.tables import Case, CaseTask, Comment, OfficialAccount, Reminder

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

SMALL = 3
FEWER = "fewer than 3"
TERMS = {"autumn": ((9, 1), (12, 31)), "spring": ((1, 1), (3, 31)), "summer": ((4, 1), (8, 31))}


class TermError(ValueError):
    """A term name that isn't autumn-YYYY, spring-YYYY or summer-YYYY."""


@dataclass(frozen=True)
class Term:
    season: str
    year: int
    first: date
    last: date

    @property
    def key(self) -> str:
        return f"{self.season}-{self.year}"

    @property
    def label(self) -> str:
        return f"{self.season.capitalize()} term {self.year}"

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Start (inclusive) and end (exclusive) as aware datetimes in the school's zone."""
        start = datetime.combine(self.first, time(0), zone)
        return start, datetime.combine(self.last + timedelta(days=1), time(0), zone)

    def months(self) -> list[date]:
        months, day = [], self.first
        while day <= self.last:
            months.append(day)
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return months


def parse_term(text: str) -> Term:
    match = re.fullmatch(r"(autumn|spring|summer)-(\d{4})", text.strip().lower())
    if not match:
        raise TermError(
            f"'{text}' isn't a term I know. Use autumn-YYYY, spring-YYYY or summer-YYYY, "
            "for example autumn-2026."
        )
    season, year = match.group(1), int(match.group(2))
    (m1, d1), (m2, d2) = TERMS[season]
    return Term(season, year, date(year, m1, d1), date(year, m2, d2))


def term_of(day: date) -> Term:
    season = "spring" if day.month <= 3 else "summer" if day.month <= 8 else "autumn"
    return parse_term(f"{season}-{day.year}")


def shown(count: int) -> str:
    """A count as governors see it: below 3 (zero too) is 'fewer than 3'."""
    return FEWER if count < SMALL else str(count)


def share(part: int, whole: int) -> str:
    """'7 of 10 (70%)', or without the percentage when either count is small."""
    if part < SMALL or whole < SMALL:
        return f"{shown(part)} of {shown(whole)}"
    return f"{part} of {whole} ({round(100 * part / whole)}%)"


def minutes_words(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return f"{whole} minute{'s' if whole != 1 else ''}"
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@dataclass
class Figures:
    """What the report says, before any suppression (suppression happens in `rows`)."""

    term: Term
    school: str
    months: list[str]
    kinds: list[str]
    by_kind_month: dict[str, list[int]]
    urgent: int
    ack_minutes: list[float]
    realert_minutes: int
    comments: int
    comments_in_time: int
    reply_hours: int
    overdue_tasks: int
    accounts_opened: int
    accounts_closed: int
    reminded: int
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.by_kind_month.values())

    def month_totals(self) -> list[int]:
        return [sum(v[i] for v in self.by_kind_month.values()) for i in range(len(self.months))]

    def kind_totals(self) -> list[int]:
        return [sum(self.by_kind_month[k]) for k in self.kinds]

    def acknowledged_in_time(self) -> int:
        return sum(1 for m in self.ack_minutes if m <= self.realert_minutes)

    def median(self) -> str:
        if len(self.ack_minutes) < SMALL:
            return f"not shown ({FEWER} acknowledged)"
        return minutes_words(statistics.median(self.ack_minutes))

    def p90(self) -> str:
        if len(self.ack_minutes) < SMALL:
            return f"not shown ({FEWER} acknowledged)"
        return minutes_words(statistics.quantiles(self.ack_minutes, n=10, method="inclusive")[8])

    def rows(self) -> list[tuple[str, str, str]]:
        """(section, measure, value) lines, as printed, in the PDF tables and in the CSV."""
        out: list[tuple[str, str, str]] = []
        for month, count in zip(self.months, self.month_totals(), strict=True):
            out.append(("Reports by month", month, shown(count)))
        for kind, count in zip(self.kinds, self.kind_totals(), strict=True):
            out.append(("Reports by kind", kind, shown(count)))
        for kind in self.kinds:
            for month, count in zip(self.months, self.by_kind_month[kind], strict=True):
                out.append(("Reports by kind and month", f"{kind}, {month}", shown(count)))
        out += [
            ("Reports", "All reports", shown(self.total)),
            ("Reports", "Marked urgent", share(self.urgent, self.total)),
            ("Acknowledgement", "Acknowledged", shown(len(self.ack_minutes))),
            ("Acknowledgement", "Median time from alert to acknowledgement", self.median()),
            ("Acknowledgement", "90th percentile", self.p90()),
            (
                "Acknowledgement",
                f"Acknowledged within the re-alert time ({self.realert_minutes} minutes)",
                share(self.acknowledged_in_time(), len(self.ack_minutes)),
            ),
            (
                "Comments",
                f"Answered within {self.reply_hours} hours (MO-24H)",
                share(self.comments_in_time, self.comments),
            ),
            (
                "Follow-ups",
                "Overdue follow-up tasks (past due, not done)",
                shown(self.overdue_tasks),
            ),
            ("Accounts", "Official accounts opened", shown(self.accounts_opened)),
            ("Accounts", "Official accounts closed", shown(self.accounts_closed)),
            ("Yearly policy reminder", "Staff sent the yearly reminder", shown(self.reminded)),
        ]
        return out

    def text(self) -> str:
        lines = [f"{self.school}: {self.term.label} report for governors"]
        section = None
        for name, measure, value in self.rows():
            if name == "Reports by kind and month":
                continue  # in the CSV and the PDF; too long for a terminal
            if name != section:
                lines += ["", name]
                section = name
            lines.append(f"  {measure}: {value}")
        return "\n".join([*lines, "", *self.notes]) + "\n"

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["School", "Term", "Section", "Measure", "Value"])
        for section, measure, value in self.rows():
            writer.writerow([self.school, self.term.label, section, measure, value])
        return buffer.getvalue()


REMINDER_NOTE = (
    "The bot sends the yearly policy reminder (X-ANNUAL) but does not ask staff to confirm "
    "it, so the reminder figure is how many staff were sent it, not how many confirmed."
)


def figures(kernel: Kernel, term: Term) -> Figures:
    """Count everything for the term from the database, in the school's timezone."""
    zone = kernel.clock.zone
    start, end = term.bounds(zone)
    now = kernel.now()
    months = term.months()
    kinds = [k.title for k in kernel.registry.case_kinds.values()]
    by_kind_month = {k: [0] * len(months) for k in kinds}
    with kernel.session() as session:
        cases = _between(session, Case, Case.created_at, start, end)
        ack: list[float] = []
        urgent = 0
        for case in cases:
            local = case.created_at.astimezone(zone)
            index = next(
                i for i, m in enumerate(months) if (m.year, m.month) == (local.year, local.month)
            )
            by_kind_month[kernel.registry.case_kind(case.kind).title][index] += 1
            urgent += bool(case.urgent)
            if case.acknowledged_at is not None:
                ack.append((case.acknowledged_at - case.created_at).total_seconds() / 60)
        comments = _between(session, Comment, Comment.received_at, start, end)
        in_time = sum(1 for c in comments if c.closed_at is not None and c.closed_at <= c.due_at)
        overdue = session.exec(
            select(CaseTask).where(
                col(CaseTask.due_at) >= start,
                col(CaseTask.due_at) < min(end, now),
                col(CaseTask.done_at).is_(None),
            )
        ).all()
        opened = _between(session, OfficialAccount, OfficialAccount.approved_on, start, end)
        closed = _between(session, OfficialAccount, OfficialAccount.closed_on, start, end)
        reminders = session.exec(
            select(Reminder).where(
                Reminder.kind == "annual",
                Reminder.status == "done",
                col(Reminder.done_at) >= start,
                col(Reminder.done_at) < end,
            )
        ).all()
    reminded = sum(_people_reminded(r.outcome) for r in reminders)
    return Figures(
        term=term,
        school=kernel.pack.school.name,
        months=[m.strftime("%B %Y") for m in months],
        kinds=kinds,
        by_kind_month=by_kind_month,
        urgent=urgent,
        ack_minutes=ack,
        realert_minutes=kernel.pack.alerts.unacknowledged_realert_minutes,
        comments=len(comments),
        comments_in_time=in_time,
        reply_hours=kernel.pack.comments.reply_within_hours,
        overdue_tasks=len(overdue),
        accounts_opened=len(opened),
        accounts_closed=len(closed),
        reminded=reminded,
        notes=[
            "Counts below 3 (zero included) are shown as 'fewer than 3'.",
            REMINDER_NOTE,
        ],
    )


def _between(session: Session, model, column, start: datetime, end: datetime) -> list:
    return list(session.exec(select(model).where(col(column) >= start, col(column) < end)))


def _people_reminded(outcome: str | None) -> int:
    """The annual sweep records 'reminded N people' (see services/reminders.py)."""
    match = re.search(r"reminded (\d+) people", outcome or "")
    return int(match.group(1)) if match else 0
