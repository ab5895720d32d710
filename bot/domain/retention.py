"""Retention rules (X-RECORD): which rule a record falls under and the day it falls due.

Dates are the school's local calendar days: a record closed on 3 March 2026 under a
6-year rule is disposed of by the first sweep on or after 3 March 2032, never the day
before. A record closed on 29 February falls due on 28 February in a common year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.policy import PolicyPack

# Audit detail keys that can hold free text (notes, outcomes, reasons, names, file
# names). Disposal removes exactly these; the database refuses any other change
# (migration 0008 holds a frozen copy of this list).
FREE_TEXT_KEYS = ("note", "outcome", "reason", "name", "file", "text", "to_reporter")

SAFEGUARDING = "safeguarding-case"
STAFF_CASE = "staff-case"
ACCOUNT_REQUEST = "account-request"
REGISTER_ENTRY = "register-entry"
COMMENT = "comment"
CONVERSATION = "abandoned-conversation"


@dataclass(frozen=True)
class Rule:
    key: str
    record: str  # what it covers, in words
    period: str  # how long, in words

    @property
    def words(self) -> str:
        return f"{self.record}: {self.period}"


def _years(n: int) -> str:
    return f"{n} year{'s' if n != 1 else ''}"


def rules(pack: PolicyPack) -> list[Rule]:
    """The pack's retention schedule, in the order a DPO reads it."""
    r = pack.records.retention
    account = f"while the account is open, then {_years(r.account_years)} after it closes"
    return [
        Rule(
            SAFEGUARDING,
            "Safeguarding cases (cyberbullying or abuse the DSL owns)",
            f"{_years(r.safeguarding_years)} after closure",
        ),
        Rule(
            STAFF_CASE,
            "Staff-targeted cyberbullying and friend or follow request cases (SLT)",
            f"{_years(r.staff_case_years)} after closure",
        ),
        Rule(ACCOUNT_REQUEST, "Official account requests", account),
        Rule(REGISTER_ENTRY, "Register of official accounts: each entry", account),
        Rule(
            COMMENT, "Comments on official accounts", f"{_years(r.comment_years)} after the reply"
        ),
        Rule(
            CONVERSATION,
            "Conversations started and never finished",
            f"{r.abandoned_conversation_days} days after the last answer",
        ),
        Rule("evidence", "Evidence files", "with their case"),
    ]


def rule(pack: PolicyPack, key: str) -> Rule:
    return next(r for r in rules(pack) if r.key == key)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def case_due(pack: PolicyPack, key: str, closed_on: date) -> date:
    r = pack.records.retention
    years = {SAFEGUARDING: r.safeguarding_years, STAFF_CASE: r.staff_case_years}.get(
        key, r.account_years
    )
    return add_years(closed_on, years)


def account_due(pack: PolicyPack, closed_on: date) -> date:
    return add_years(closed_on, pack.records.retention.account_years)


def comment_due(pack: PolicyPack, replied_on: date) -> date:
    return add_years(replied_on, pack.records.retention.comment_years)


def conversation_due(pack: PolicyPack, last_answer_on: date) -> date:
    return last_answer_on + timedelta(days=pack.records.retention.abandoned_conversation_days)


def redacted(detail: dict[str, object]) -> dict[str, object]:
    """An audit row's detail with its free text taken out (the rest kept, in order)."""
    return {k: v for k, v in detail.items() if k not in FREE_TEXT_KEYS}


def schedule_table(pack: PolicyPack) -> list[str]:
    """The pack's schedule as Markdown table rows (the retention tables in docs/records.md)."""
    lines = ["| Record | Kept for |", "| --- | --- |"]
    lines += [f"| {r.record} | {r.period} |" for r in rules(pack)]
    return lines
