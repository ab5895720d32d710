"""A case's retention class and the decisions people make about it (X-RECORD).

The class is set when the case opens, from what the report found (its kind declares
how); the case's owners may reclassify it with a reason. When its period ends, a
"review" class waits for a person: keep it for longer (with a reason) or dispose of it.
Every change is a row in the audit trail under the case's reference, so it is in the
case's chronology; the retention sweep (bot/records/retention.py) reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select

from bot.domain import retention as rules
from bot.domain import retention_classes as classes
from bot.domain.cases import Actor, CaseKind, can_handle
from bot.domain.policy import PolicyPack
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession, get_in_school
from bot.storage.tables import AuditEvent, Case, Comment, OfficialAccount

DPO = "dpo"  # the pack's role for the Data Protection Officer
RECLASSIFIED = "retention.reclassified"
KEPT = "retention.kept"
DISPOSE = "retention.dispose_approved"
SCHEDULE_APPLIED = "retention.schedule_applied"
MAX_REASON = 1000


class RetentionRefused(Exception):
    """Why a retention decision can't be made; safe to show the person who asked."""


# --- the class a case opens with ---------------------------------------------------------


def born_on(details: Mapping[str, Any]) -> date | None:
    """The child's date of birth, where the report gave it (a former pupil's)."""
    given = (details.get("age") or {}) if isinstance(details.get("age"), dict) else {}
    try:
        return date.fromisoformat(given["born_on"]) if given.get("born_on") else None
    except (TypeError, ValueError):
        return None


def classify_on_opening(kind: CaseKind, case: Case) -> None:
    case.retention_class = kind.retention_class(case.team, case.flags, case.details)
    if case.retention_class == classes.CHILD:
        case.child_born_on = born_on(case.details)


def classify_on_completion(kind: CaseKind, case: Case) -> None:
    """The rest of a report joins its case: a safeguarding record stays one."""
    now = kind.retention_class(case.team, case.flags, case.details)
    current = case.retention_class
    if current is None or not classes.retention_class(current).safeguarding:
        case.retention_class = now
    if case.retention_class == classes.CHILD:
        case.child_born_on = case.child_born_on or born_on(case.details)


def case_class(kernel: Kernel, case: Case) -> str:
    """Its class; a case from before classes existed gets the one its kind gives it."""
    if case.retention_class:
        return case.retention_class
    kind = kernel.registry.case_kind(case.kind)
    return kind.retention_class(case.team, case.flags, case.details)


def comment_class(comment: Comment) -> str:
    return classes.COMPLAINT if comment.complaint else classes.COMMENT


# --- what the sweep reads back -----------------------------------------------------------


def in_force(session: SchoolSession) -> dict[str, int]:
    """The periods last applied to existing records ({} before the first sweep)."""
    row = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.school_id) == session.school_id,
            AuditEvent.subject == rules.SCHEDULE_SUBJECT,
        )
        .order_by(col(AuditEvent.id).desc())
    ).first()
    return dict(row.detail.get("periods") or {}) if row else {}


@dataclass(frozen=True)
class Decision:
    action: str  # KEPT or DISPOSE
    due_on: date  # the day it was about
    by_key: str
    by_name: str
    at_day: date
    until: date | None = None


def decisions(session: SchoolSession, subjects: list[str] | None = None) -> dict[str, Decision]:
    """Each record's latest review decision, by its reference."""
    query = select(AuditEvent).where(
        col(AuditEvent.school_id) == session.school_id, col(AuditEvent.action).in_([KEPT, DISPOSE])
    )
    if subjects is not None:
        query = query.where(col(AuditEvent.subject).in_(subjects))
    out: dict[str, Decision] = {}
    for event in session.exec(query.order_by(col(AuditEvent.id))):
        d = event.detail
        earlier = out.get(event.subject)
        until = d.get("until")  # a "keep" stands until a later "keep" replaces it
        out[event.subject] = Decision(
            event.action,
            date.fromisoformat(d["due_on"]),
            event.actor,
            str(d.get("by") or event.actor),
            event.at.date(),
            date.fromisoformat(until) if until else (earlier.until if earlier else None),
        )
    return out


def case_schedule(
    kernel: Kernel,
    case: Case,
    in_force_now: Mapping[str, int],
    decision: Decision | None,
    closed_on: date,
) -> rules.Schedule:
    zone = kernel.clock.zone
    return rules.due(
        kernel.pack,
        case_class(kernel, case),
        opened_on=case.created_at.astimezone(zone).date(),
        closed_on=closed_on,
        born_on=case.child_born_on,
        keep_until=decision.until if decision else None,
        in_force=in_force_now,
    )


# --- who may decide ----------------------------------------------------------------------


def may_decide(pack: PolicyPack, actor: Actor | None, owner_team: str | None, cls: str) -> bool:
    """The case's owners always; the DSL for a safeguarding record a team owns (a fake
    account SLT dealt with, later found to have messaged pupils), never one a single role owns (a concern
    about a colleague: the DSL may be the person concerned); the DPO for records that are
    not safeguarding records. `actor` None is the server's own command line."""
    if actor is None:
        return True
    if owner_team is not None and can_handle(pack, actor, owner_team):
        return True
    if classes.retention_class(cls).safeguarding:
        return owner_team in ("dsl", "slt") and can_handle(pack, actor, "dsl")
    return DPO in actor.roles


def record_for(
    kernel: Kernel, session: SchoolSession, ref: str, actor: Actor | None
) -> tuple[str, str | None, str, Case | Comment]:
    """(reference, owning team, class, row) of a case or comment this person may decide
    about. Missing and not theirs read the same, so references can't be probed."""
    ref = ref.strip().upper()
    row: Case | Comment | None
    if ref.startswith("CM-") and ref[3:].isdigit():
        row = get_in_school(session, Comment, int(ref[3:]))
        team, cls = "slt", comment_class(row) if row else classes.COMMENT
    else:
        row = repo.case_by_ref(session, ref)
        team, cls = (row.team, case_class(kernel, row)) if row else ("", "")
    if row is None or not may_decide(kernel.pack, actor, team, cls):
        raise RetentionRefused(f"I can't find a record {ref} that you can decide about.")
    if row.disposed_at is not None:
        raise RetentionRefused(f"{ref} has already been disposed of; only its tombstone is left.")
    return ref, team, cls, row


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise RetentionRefused("Please give a reason; it goes in the record's history.")
    return reason[:MAX_REASON]


# --- the decisions -----------------------------------------------------------------------


def reclassify(
    kernel: Kernel,
    session: SchoolSession,
    ref: str,
    to: str,
    reason: str,
    *,
    by: tuple[str, str],
    actor: Actor | None,
    child_born_on: date | None = None,
) -> str:
    """Put a case in another class, with a reason, in its chronology."""
    key = classes.class_named(to)
    if key is None or key not in classes.CASE_CLASSES:
        names = ", ".join(classes.CASE_CLASSES)
        raise RetentionRefused(f"'{to}' is not a retention class. Use one of: {names}.")
    reason = _reason(reason)
    ref, team, old, row = record_for(kernel, session, ref, actor)
    if not isinstance(row, Case) or (
        actor is not None and not can_handle(kernel.pack, actor, team or "")
    ):
        raise RetentionRefused(f"Only the team that owns {ref} can reclassify it.")
    if key == old and child_born_on is None:
        return f"{ref} is already kept as: {classes.retention_class(key).record.lower()}."
    row.retention_class = key
    if key == classes.CHILD:
        row.child_born_on = child_born_on or row.child_born_on or born_on(row.details)
    session.add(row)
    repo.audit(
        session, kernel.now(), by[0], RECLASSIFIED, ref, by=by[1], was=old, to=key, reason=reason
    )
    words = rules.rule(kernel.pack, key, in_force(session)).words
    return f"{ref} is now kept as: {words}. The reason is in its history."


def day_of(kernel: Kernel, moment: datetime) -> date:
    return moment.astimezone(kernel.clock.zone).date()


def case_due(
    kernel: Kernel,
    case: Case,
    account: OfficialAccount | None,
    in_force_now: Mapping[str, int],
    decision: Decision | None,
) -> rules.Schedule | None:
    """A closed case's schedule; None while the account it asked for is still open."""
    assert case.closed_at is not None
    closed = case.closed_at
    if case_class(kernel, case) == classes.ACCOUNT and account is not None:
        if account.closed_on is None:
            return None  # the account is still open: kept
        closed = account.closed_on
    return case_schedule(kernel, case, in_force_now, decision, day_of(kernel, closed))


def comment_due(
    kernel: Kernel, comment: Comment, in_force_now: Mapping[str, int], decision: Decision | None
) -> rules.Schedule:
    assert comment.closed_at is not None
    closed = day_of(kernel, comment.closed_at)
    return rules.due(
        kernel.pack,
        comment_class(comment),
        opened_on=day_of(kernel, comment.received_at),
        closed_on=closed,
        keep_until=decision.until if decision else None,
        in_force=in_force_now,
    )


def _schedule_of(
    kernel: Kernel, session: SchoolSession, row: Case | Comment, ref: str
) -> rules.Schedule:
    force = in_force(session)
    decision = decisions(session, [ref]).get(ref)
    if isinstance(row, Comment):
        if row.closed_at is None:
            raise RetentionRefused(f"{ref} is still waiting for a reply; it is kept until then.")
        return comment_due(kernel, row, force, decision)
    if row.closed_at is None:
        raise RetentionRefused(f"{ref} is still open; it is kept until it is closed.")
    account = session.exec(
        select(OfficialAccount).where(
            col(OfficialAccount.school_id) == session.school_id, OfficialAccount.case_id == row.id
        )
    ).first()
    schedule = case_due(kernel, row, account, force, decision)
    if schedule is None:
        raise RetentionRefused(f"{ref}'s account is still open; it is kept until it closes.")
    return schedule


def keep(
    kernel: Kernel,
    session: SchoolSession,
    ref: str,
    years: int,
    reason: str,
    *,
    by: tuple[str, str],
    actor: Actor | None,
) -> str:
    """A person's review: keep the record `years` more years after its period ends."""
    if not 1 <= years <= 25:
        raise RetentionRefused("Please say how many more years to keep it, from 1 to 25.")
    reason = _reason(reason)
    ref, _team, _cls, row = record_for(kernel, session, ref, actor)
    schedule = _schedule_of(kernel, session, row, ref)
    today = kernel.local_now().date()
    until = rules.add_years(max(schedule.due_on, today), years)
    repo.audit(
        session,
        kernel.now(),
        by[0],
        KEPT,
        ref,
        by=by[1],
        years=years,
        due_on=schedule.due_on.isoformat(),
        until=until.isoformat(),
        reason=reason,
    )
    return (
        f"{ref} will be kept until {until.strftime('%-d %B %Y')}, then reviewed again. "
        "Your reason is in its history."
    )


def approve_disposal(
    kernel: Kernel,
    session: SchoolSession,
    ref: str,
    reason: str,
    *,
    by: tuple[str, str],
    actor: Actor | None,
) -> str:
    """A person's review: the record may go now that its period has ended."""
    reason = _reason(reason)
    ref, _team, _cls, row = record_for(kernel, session, ref, actor)
    if isinstance(row, Case) and row.held_at is not None:
        raise RetentionRefused(f"{ref} is on legal hold. Lift the hold first. Nothing has changed.")
    schedule = _schedule_of(kernel, session, row, ref)
    if schedule.due_on > kernel.local_now().date():
        day = schedule.due_on.strftime("%-d %B %Y")
        raise RetentionRefused(
            f"{ref} must be kept until {day}, so it can't be disposed of yet. Nothing has changed."
        )
    repo.audit(
        session, kernel.now(), by[0], DISPOSE, ref, by=by[1],
        due_on=schedule.due_on.isoformat(), reason=reason,
    )  # fmt: skip
    return (
        f"Thank you. {ref} will be disposed of at the next daily retention sweep, recorded as "
        "your decision. Only its reference, kind and dates will be left."
    )
