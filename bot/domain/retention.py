"""Retention rules (X-RECORD): how long each class of record is kept and the day it
falls due (the classes and their floors are in bot/domain/retention_classes.py).

Dates are the school's local calendar days: a record closed on 3 March 2026 under a
6-year rule falls due on 3 March 2032, never the day before. A record closed on
29 February falls due on 28 February in a common year.

A shorter period in the pack never applies to records by itself: the periods in force
are the longer of the pack's and those last applied (`in_force`), until someone applies
the shorter ones with `schoolbot records apply-schedule`, which the audit trail records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain import retention_classes as classes
from bot.domain.policy import PolicyPack
from bot.domain.retention_classes import RetentionClass, amount

# Audit detail keys that can hold free text (notes, outcomes, reasons, names, file
# names). Disposal removes exactly these; the database refuses any other change
# (migration 0008 holds a frozen copy of this list).
FREE_TEXT_KEYS = ("note", "outcome", "reason", "name", "file", "text", "to_reporter")

# Rule keys of records that are not cases (a register entry follows its account request).
REGISTER_ENTRY = "register-entry"
EVIDENCE = "evidence"
# Where the periods last applied are recorded (the audit trail's subject).
SCHEDULE_SUBJECT = "retention-schedule"


@dataclass(frozen=True)
class Rule:
    key: str
    record: str  # what it covers, in words
    period: str  # how long, in words

    @property
    def words(self) -> str:
        return f"{self.record}: {self.period}"


def period(pack: PolicyPack, key: str, in_force: Mapping[str, int] | None = None) -> int:
    """The period for a class: the pack's, unless a longer one is still in force."""
    cls = classes.retention_class(key)
    own = int(getattr(pack.records.retention, cls.setting))
    return max(own, (in_force or {}).get(key, own))


def pack_periods(pack: PolicyPack) -> dict[str, int]:
    return {c.key: int(getattr(pack.records.retention, c.setting)) for c in classes.CLASSES}


def shorter_than_in_force(pack: PolicyPack, in_force: Mapping[str, int]) -> dict[str, int]:
    """Classes whose pack period is shorter than the one in force: {class: pack period}."""
    return {k: v for k, v in pack_periods(pack).items() if k in in_force and v < in_force[k]}


def _period_words(cls: RetentionClass, n: int) -> str:
    return f"{amount(n, cls.unit)} {cls.starts}"


def rules(pack: PolicyPack, in_force: Mapping[str, int] | None = None) -> list[Rule]:
    """The schedule, in the order a DPO reads it."""
    out = [
        Rule(c.key, c.record, _period_words(c, period(pack, c.key, in_force)))
        for c in classes.CLASSES
    ]
    account = next(r for r in out if r.key == classes.ACCOUNT)
    out.append(Rule(REGISTER_ENTRY, "Register of official accounts: each entry", account.period))
    out.append(Rule(EVIDENCE, "Evidence files", "with their case"))
    return out


def rule(pack: PolicyPack, key: str, in_force: Mapping[str, int] | None = None) -> Rule:
    """A rule by key; a key from before retention classes reads as what it was."""
    found = next((r for r in rules(pack, in_force) if r.key == key), None)
    return found or Rule(key, key.replace("-", " ").capitalize(), "an earlier rule")


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def add_period(day: date, n: int, unit: str) -> date:
    return add_years(day, n) if unit == "years" else day + timedelta(days=n)


@dataclass(frozen=True)
class Schedule:
    """When one record's period ends and whether a person must then decide."""

    cls: str
    due_on: date
    review: bool  # waits for a person's decision; never disposed of automatically
    basis: str  # what the period runs from, in words ("closure", "date of birth")


def due(
    pack: PolicyPack,
    key: str,
    *,
    opened_on: date,
    closed_on: date,
    born_on: date | None = None,
    keep_until: date | None = None,
    in_force: Mapping[str, int] | None = None,
) -> Schedule:
    """A record of class `key`: where the child's date of birth is known, a child
    protection record runs from it (and is disposed of then, after notice); where it
    isn't, from closure and then a person reviews it. An allegation runs from the day it
    was made. A person's "keep until" moves the day on, never back."""
    cls = classes.retention_class(key)
    n = period(pack, key, in_force)
    review = cls.review
    start, basis = closed_on, "closure"
    if key == classes.CHILD and born_on is not None:
        start, basis, review = born_on, "date of birth", False
    elif key == classes.ALLEGATION:
        start, basis = opened_on, "the allegation"
    on = max(add_period(start, n, cls.unit), closed_on)
    if keep_until is not None and keep_until > on:
        on, basis = keep_until, "a decision to keep it"
    return Schedule(key, on, review, basis)


def account_due(pack: PolicyPack, closed_on: date, in_force: Mapping[str, int] | None) -> date:
    return add_years(closed_on, period(pack, classes.ACCOUNT, in_force))


def conversation_due(
    pack: PolicyPack, last_answer_on: date, in_force: Mapping[str, int] | None = None
) -> date:
    return last_answer_on + timedelta(days=period(pack, classes.CONVERSATION, in_force))


def redacted(detail: dict[str, object]) -> dict[str, object]:
    """An audit row's detail with its free text taken out (the rest kept, in order)."""
    return {k: v for k, v in detail.items() if k not in FREE_TEXT_KEYS}


def schedule_table(pack: PolicyPack) -> list[str]:
    """The pack's schedule as Markdown table rows (the retention tables in docs/records.md)."""
    lines = ["| Record | Kept for |", "| --- | --- |"]
    lines += [f"| {r.record} | {r.period} |" for r in rules(pack)]
    return lines


def floors_table() -> list[str]:
    """The floors the code enforces, with their sources (docs/records.md)."""
    lines = ["| Record | Setting | At least | Source |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {c.record} | `{c.setting}` | {amount(c.floor, c.unit)} | {c.source} |"
        for c in classes.CLASSES
    ]
    return lines
