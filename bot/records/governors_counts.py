"""Counting the governors' report from the database, in the school's timezone, as at a
fixed date: the end of the term, or for a term in progress the end of its last whole
month (why: see bot/records/governors.py)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.records.governors import NOTES, Figures, Term, term_of
from bot.records.retention import outcome_category
from bot.storage.scoping import SchoolSession
from bot.storage.tables import (
    Approval,
    AuditEvent,
    Case,
    CaseTask,
    Comment,
    OfficialAccount,
    PolicyRead,
    Reminder,
)

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

OUTCOMES = ("Closed by the team", "Approved", "Not approved", "Closed without a decision")
# Case flags that record a hand-over, in the words governors read.
REFERRAL_FLAGS = {
    "police": "Police to be told (staff consent given)",
    "police_dsl_to_decide": "DSL to decide whether to tell the police (threat to a pupil)",
    "behaviour_policy": "Passed to the behaviour policy (a pupil posted it)",
}
BUNDLES = "Case bundles made to hand on (children's social care, the LADO or the police)"


def counting_until(term: Term, now: datetime, zone: ZoneInfo) -> tuple[datetime, str]:
    """Where counting stops (exclusive) and the term's state: the term's end once it is
    over; the start of this month while it is in progress, so two runs in one month agree."""
    start, end = term.bounds(zone)
    if now >= end:
        return end, "over"
    if now < start:
        return start, "not started"
    local = now.astimezone(zone)
    month = datetime.combine(date(local.year, local.month, 1), time(0), zone)
    return max(start, month), "in progress"


def figures(kernel: Kernel, term: Term, *, compare: bool = True) -> Figures:
    """Count everything for the term, as at its cut-off, and last term's beside it."""
    zone = kernel.clock.zone
    start, _ = term.bounds(zone)
    now = kernel.now()
    until, state = counting_until(term, now, zone)
    months = [m for m in term.months() if datetime.combine(m, time(0), zone) < until]
    kinds = [k.title for k in kernel.registry.case_kinds.values()]
    by_kind_month = {k: [0] * len(months) for k in kinds}
    with kernel.session() as session:
        cases = _between(session, Case, Case.created_at, start, until)
        ack: list[float] = []
        referrals = dict.fromkeys([*REFERRAL_FLAGS.values(), BUNDLES], 0)
        for case in cases:
            local = case.created_at.astimezone(zone)
            index = next(
                i for i, m in enumerate(months) if (m.year, m.month) == (local.year, local.month)
            )
            by_kind_month[kernel.registry.case_kind(case.kind).title][index] += 1
            if case.acknowledged_at is not None and case.acknowledged_at < until:
                ack.append((case.acknowledged_at - case.created_at).total_seconds() / 60)
            for flag in set(case.flags or []) & set(REFERRAL_FLAGS):
                referrals[REFERRAL_FLAGS[flag]] += 1
        referrals[BUNDLES] = _bundles(session, start, until)
        comments = _between(session, Comment, Comment.received_at, start, until)
        overdue = session.exec(
            select(CaseTask).where(
                col(CaseTask.school_id) == session.school_id,
                col(CaseTask.due_at) >= start,
                col(CaseTask.due_at) < min(until, now),
                (col(CaseTask.done_at).is_(None)) | (col(CaseTask.done_at) >= until),
            )
        ).all()
        reminders = session.exec(
            select(Reminder).where(
                col(Reminder.school_id) == session.school_id,
                Reminder.kind == "annual",
                Reminder.status == "done",
                col(Reminder.done_at) >= start,
                col(Reminder.done_at) < until,
            )
        ).all()
        data = Figures(
            term=term,
            school=kernel.pack.school.name,
            made_on=now.astimezone(zone).date(),
            as_at=until.astimezone(zone).date() - timedelta(days=1) if until > start else None,
            state=state,
            months=[m.strftime("%B %Y") for m in months],
            kinds=kinds,
            by_kind_month=by_kind_month,
            urgent=sum(1 for c in cases if c.urgent),
            ack_minutes=ack,
            realert_minutes=kernel.pack.alerts.unacknowledged_realert_minutes,
            comments=len(comments),
            comments_in_time=sum(
                1
                for c in comments
                if c.closed_at is not None and c.closed_at <= c.due_at and c.closed_at < until
            ),
            reply_hours=kernel.pack.comments.reply_within_hours,
            overdue_tasks=len(overdue),
            accounts_opened=len(
                _between(session, OfficialAccount, OfficialAccount.approved_on, start, until)
            ),
            accounts_closed=len(
                _between(session, OfficialAccount, OfficialAccount.closed_on, start, until)
            ),
            open_from_term=sum(1 for c in cases if _open_at(c, until)),
            open_all=sum(
                1
                for c in _between(session, Case, Case.created_at, None, until)
                if _open_at(c, until)
            ),
            closed=_closed(session, start, until),
            referrals=referrals,
            reminded=sum(_people_reminded(r.outcome) for r in reminders),
            confirmed=len(_between(session, PolicyRead, PolicyRead.confirmed_at, start, until)),
            notes=list(NOTES),
        )
    if compare:
        data.previous = figures(kernel, term_of(term.first - timedelta(days=1)), compare=False)
    return data


def _open_at(case: Case, until: datetime) -> bool:
    return case.closed_at is None or case.closed_at >= until


def _closed(session: SchoolSession, start: datetime, until: datetime) -> dict[str, int]:
    """Cases closed in the term by outcome category (never the team's own words)."""
    closed = dict.fromkeys(OUTCOMES, 0)
    for case in _between(session, Case, Case.closed_at, start, until):
        approval = session.exec(
            select(Approval).where(
                col(Approval.school_id) == session.school_id, Approval.case_id == case.id
            )
        ).first()
        closed[outcome_category(case, approval)] += 1
    return closed


def _bundles(session: SchoolSession, start: datetime, until: datetime) -> int:
    """Cases whose bundle was made in the term: each one handed on (or about to be)."""
    rows = session.exec(
        select(AuditEvent.subject)
        .where(
            col(AuditEvent.school_id) == session.school_id,
            AuditEvent.action == "bundle.downloaded",
            col(AuditEvent.at) >= start,
            col(AuditEvent.at) < until,
        )
        .distinct()
    ).all()
    return len(rows)


def _between(session: SchoolSession, model, column, start: datetime | None, end: datetime) -> list:
    query = select(model).where(col(column) < end)
    if start is not None:
        query = query.where(col(column) >= start)
    return list(session.exec(query))


def _people_reminded(outcome: str | None) -> int:
    """The annual sweep records 'reminded N people' (see bot/features/yearly)."""
    match = re.search(r"reminded (\d+) people", outcome or "")
    return int(match.group(1)) if match else 0
