"""The termly report for governors: aggregates only, protected so no one can be picked out.

Terms follow the school year in the school's timezone: autumn is 1 September to
31 December, spring 1 January to 31 March, summer 1 April to 31 August (Easter moves, so
the boundary is fixed at the end of March).

How counts are protected, and why (docs/records.md says the same for the DPO):

- A count below 3, zero included, is shown as "fewer than 3".
- Every other count is rounded to the nearest 5 and shown as "about 5", "about 10"...,
  totals included, each rounded on its own. Suppressing small cells alone is not enough:
  a total minus the cells shown gives a hidden cell back ("10 reports; 4 in September,
  4 in October" leaves 2 for November and December). With every figure rounded, such
  sums are only ever known to within a few, never exactly.
- A share shows its percentage (to the nearest 10%) only when both the part and the rest
  are 3 or more, so "90%" can't point at the one case that was different.
- A term in progress is counted only to the end of its last whole month, the "as at"
  date. Two runs in the same month give the same figures, so comparing them can't reveal
  a new case; a run a month later adds a whole month, which the report shows as its own
  protected figure.

Times (median, 90th percentile) are only shown when worked out from 3 or more items.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SMALL = 3
FEWER = "fewer than 3"
ROUND_TO = 5
MARKING = "OFFICIAL-SENSITIVE"
FIRST_YEAR, LAST_YEAR = 2000, 2199  # a term before or after these holds no records
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
    if not FIRST_YEAR <= year <= LAST_YEAR:  # year 1 or 9999 can't be a term of ours
        raise TermError(f"'{text}' is outside the years {FIRST_YEAR} to {LAST_YEAR}.")
    return _term(season, year)


def _term(season: str, year: int) -> Term:
    (m1, d1), (m2, d2) = TERMS[season]
    return Term(season, year, date(year, m1, d1), date(year, m2, d2))


def term_of(day: date) -> Term:
    season = "spring" if day.month <= 3 else "summer" if day.month <= 8 else "autumn"
    return _term(season, day.year)


def rounded(count: int) -> int:
    """The count as published: 0 below 3, else to the nearest 5 (3 to 7 is 5, 8 to 12 is 10)."""
    return 0 if count < SMALL else max(ROUND_TO, (count + ROUND_TO // 2) // ROUND_TO * ROUND_TO)


def shown(count: int) -> str:
    """A count as governors see it: 'fewer than 3' (zero too), else 'about' the nearest 5."""
    return FEWER if count < SMALL else f"about {rounded(count)}"


def share(part: int, whole: int) -> str:
    """'about 5 of about 10 (about 40%)'; the percentage only when the part and the rest
    are both 3 or more, so it can't single out a small group; nothing of a whole below 3."""
    if whole < SMALL:  # not "fewer than 3 of fewer than 3"
        return f"not shown ({FEWER} in all)"
    words = f"{shown(part)} of {shown(whole)}"
    if part < SMALL or whole - part < SMALL:
        return words
    return f"{words} (about {int(10 * part / whole + 0.5) * 10}%)"


def minutes_words(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return f"{whole} minute{'s' if whole != 1 else ''}"
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@dataclass
class Figures:
    """What the report says, before any protection (that happens in `rows`), counted up to
    `cutoff` (exclusive; see `counting_until`)."""

    term: Term
    school: str
    made_on: date
    as_at: date | None  # the last day counted; None when no whole month has finished
    state: str  # "over", "in progress" or "not started"
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
    open_from_term: int
    open_all: int
    closed: dict[str, int]  # outcome category -> cases closed in the term
    referrals: dict[str, int]  # what was done -> cases
    reminded: int
    confirmed: int
    previous: Figures | None = None
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

    def as_at_words(self) -> str:
        return f"{self.as_at:%-d %B %Y}" if self.as_at else "no whole month counted yet"

    def about(self) -> list[tuple[str, str]]:
        """What a reader must know before the figures: marking, dates, whether final."""
        lines = [
            ("Marking", MARKING),
            ("Term", f"{self.term.first:%-d %B %Y} to {self.term.last:%-d %B %Y}"),
            ("Figures as at", self.as_at_words()),
            ("Made on", f"{self.made_on:%-d %B %Y}"),
        ]
        if self.state == "in progress":
            lines.append(
                (
                    "Term in progress",
                    "The term is not over: these figures stop at the end of the last whole "
                    "month and will change. Final figures come after the term ends.",
                )
            )
        elif self.state == "not started":
            lines.append(("Term not started", "The term has not started: there is nothing yet."))
        return lines

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
        ]
        out += self._trend()
        out += [
            (
                "Open cases",
                "Reported this term, still open at the as-at date",
                shown(self.open_from_term),
            ),
            ("Open cases", "From any term, still open at the as-at date", shown(self.open_all)),
            ("Outcomes", "Cases closed this term", shown(sum(self.closed.values()))),
            *(("Outcomes", category, shown(n)) for category, n in self.closed.items()),
            *(("Referrals", what, shown(n)) for what, n in self.referrals.items()),
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
                f"Answered within {self.reply_hours} hours",
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
            (
                "Yearly policy reminder",
                "Staff who confirmed they have read the policy (“I've read it”)",
                shown(self.confirmed),
            ),
        ]
        return out

    def _trend(self) -> list[tuple[str, str, str]]:
        """Each headline figure beside last term's, both protected the same way."""
        before = self.previous
        if before is None:
            return []
        pairs = [("All reports", self.total, before.total)]
        pairs += [
            (
                kind,
                now,
                before.kind_totals()[before.kinds.index(kind)] if kind in before.kinds else 0,
            )
            for kind, now in zip(self.kinds, self.kind_totals(), strict=True)
        ]
        pairs += [
            ("Marked urgent", self.urgent, before.urgent),
            ("Cases closed", sum(self.closed.values()), sum(before.closed.values())),
        ]
        section = f"Compared with last term ({before.term.label})"
        return [
            (section, measure, f"{shown(now)} this term; {shown(then)} last term")
            for measure, now, then in pairs
        ]

    def text(self) -> str:
        lines = [MARKING, f"{self.school}: {self.term.label} report for governors"]
        lines += [f"{label}: {value}" for label, value in self.about()[1:]]
        section = None
        for name, measure, value in self.rows():
            if name == "Reports by kind and month":
                continue  # in the CSV and the PDF; too long for a terminal
            if name != section:
                lines += ["", name]
                section = name
            lines.append(f"  {measure}: {value}")
        return "\n".join([*lines, "", *self.notes, MARKING]) + "\n"

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["School", "Term", "Section", "Measure", "Value"])
        for measure, value in self.about():
            writer.writerow([self.school, self.term.label, "About this report", measure, value])
        for section, measure, value in self.rows():
            writer.writerow([self.school, self.term.label, section, measure, value])
        return buffer.getvalue()


NOTES = (
    "Counts below 3 (zero included) are shown as 'fewer than 3'. Every other count, totals "
    "included, is rounded to the nearest 5 ('about 10' is 8 to 12), so no hidden count can "
    "be worked out from the others.",
    "Staff confirm the yearly policy reminder with its “I've read it” button; the report "
    "counts confirmations and never names anyone.",
)
