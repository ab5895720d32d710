"""The review list (X-RECORD): before any record is disposed of, a person is told.

Each day, records whose retention period ends within the pack's `review_notice_days`
(default 30) go on a list: safeguarding records to their owners (the DSL team, or the one
role a concern about a colleague went to), the rest to whoever holds the DPO role. A
record is listed once for each day it falls due (a record waiting for a decision again
every `review_notice_days`), and the sweep disposes of a record automatically only once
its notice has been out that long. "Review" classes are never disposed of automatically.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlmodel import col, select

from bot.domain import retention as rules
from bot.domain import retention_classes as classes
from bot.domain.cases import role_of_team, role_team
from bot.domain.messages import Message, Priority
from bot.features.cases import retention
from bot.features.cases.retention import DPO
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Reminder

if TYPE_CHECKING:
    from bot.kernel.core import Kernel
    from bot.records.retention import Due

log = logging.getLogger(__name__)
NOTICE = "retention_review"  # the Reminder kind that records a notice went out


def notice_key(item: Due, today: date, every: int) -> str | None:
    """What makes one notice once: the record and the day it falls due (and, while a
    decision is awaited past that day, which round of reminders). None: no notice."""
    if item.record_type == "conversation":
        return None  # unfinished conversations reach the DSL in their own way
    key = f"{NOTICE}:{item.record_type}:{item.row[1]}:{item.due_on.isoformat()}"
    rounds = (today - item.due_on).days // every
    if item.review and rounds >= 1:
        key += f":{rounds}"
    return key[:100]


def notices(session: SchoolSession) -> dict[str, date]:
    """Each notice sent: its key and the day it went."""
    rows = session.exec(
        select(Reminder).where(
            col(Reminder.school_id) == session.school_id, Reminder.kind == NOTICE
        )
    )
    return {r.key: (r.done_at or r.due_at).date() for r in rows}


def first_notice(sent: dict[str, date], item: Due) -> date | None:
    """When this record was first listed for the day it now falls due."""
    prefix = f"{NOTICE}:{item.record_type}:{item.row[1]}:{item.due_on.isoformat()}"
    days = [day for key, day in sent.items() if key.startswith(prefix)]
    return min(days) if days else None


def reviewer(kernel: Kernel, session: SchoolSession, item: Due) -> str:
    """The team (or role) who reviews it: a safeguarding record's owners, else the DPO
    (the Headteacher where nobody holds the DPO role yet)."""
    if classes.BY_KEY.get(item.rule) and classes.retention_class(item.rule).safeguarding:
        owner = item.owner or "dsl"
        return owner if owner == "dsl" or role_of_team(owner) else "dsl"
    if repo.holders(session, [DPO]):
        return role_team(DPO)
    head = kernel.pack.head_role
    log.warning("retention review: nobody holds the DPO role; the list goes to the head")
    return role_team(head) if head else "slt"


def _line(item: Due, today: date) -> str:
    day = item.due_on.strftime("%-d %b %Y")
    cls = classes.BY_KEY.get(item.rule)
    what = cls.record.lower() if cls else "register of official accounts"
    if item.review:
        when = "period ended" if item.due_on <= today else "period ends"
        then = "Needs your decision: it is never deleted automatically."
    else:
        when = "period ends"
        then = "Disposed of automatically after that unless you keep it."
    return f"• {item.record} {item.kind} ({what}): {when} {day}. {then}"


def review_message(items: list[Due], today: date, days: int, *, owners: bool = True) -> Message:
    """The list one reviewer gets; the owners of the cases on it may read them first."""
    first = next((i.record for i in items if i.record_type in ("case", "comment")), "CB-0001")
    lines = [
        f"Records for review ({len(items)}): their retention period ends within {days} days "
        "or has ended. Nothing is deleted without you knowing.",
        *(_line(i, today) for i in items),
        "",
        f"To keep one longer, type: keep {first} 5 years because <your reason>.",
        f"To let one go once its period has ended, type: dispose {first} because <your reason>.",
    ]
    if owners:
        lines.append(f"To read a case first: case {first}.")
    return Message("\n".join(lines))


def send(kernel: Kernel, items: list[Due]) -> int:
    """List each record not yet listed for its day; returns how many were listed."""
    today = kernel.local_now().date()
    every = kernel.pack.records.retention.review_notice_days
    by_reviewer: dict[str, list[Due]] = defaultdict(list)
    listed = 0
    with kernel.session() as session:
        now = kernel.now()
        for item in items:
            key = notice_key(item, today, every)
            if key is None or item.held:
                continue
            fresh = repo.insert_new(
                session, Reminder, key=key, kind=NOTICE, due_at=now, status="done",
                done_at=now, outcome="listed for review",
            )  # fmt: skip
            if fresh:  # another instance may have listed it already: once only
                by_reviewer[reviewer(kernel, session, item)].append(item)
                listed += 1
        for team, mine in by_reviewer.items():
            message = review_message(mine, today, every, owners=team != role_team(DPO))
            for platform in kernel.platforms:
                kernel.outbox.announce_team(
                    session, platform, team, message, priority=Priority.NUDGE
                )
                if role_of_team(team):
                    break  # a role's holders get one direct message each, wherever they are
        session.commit()
    if listed:
        log.info("retention review: listed %s record(s)", listed)
    return listed


def first_notices(kernel: Kernel) -> dict[str, date]:
    with kernel.session() as session:
        return notices(session)


def may_go(kernel: Kernel, item: Due, sent: dict[str, date]) -> bool:
    """A person approved it; or it is no "review" class and its notice has been out
    for the pack's `review_notice_days` (an unfinished conversation needs none)."""
    if item.held:
        return False
    if item.approved:
        return True
    if item.review:
        return False
    if item.record_type == "conversation":
        return True
    listed = first_notice(sent, item)
    wait = timedelta(days=kernel.pack.records.retention.review_notice_days)
    return listed is not None and listed + wait <= kernel.local_now().date()


def authorised(item: Due, sent: dict[str, date]) -> tuple[str, str]:
    """(method, who or what authorised it), for the disposal log."""
    if item.approved and item.decision is not None:
        d = item.decision
        return "decision", f"{d.by_name} ({d.by_key}), reviewed on {d.at_day.isoformat()}"
    listed = first_notice(sent, item)
    notice = f", after notice on {listed.isoformat()}" if listed else ""
    return "automatic", f"the school's retention rule '{item.rule}'{notice}"[:200]


def record_schedule(kernel: Kernel) -> None:
    """The periods in force for existing records: the pack's the first time, and any
    longer one since (a shorter one waits for `schoolbot records apply-schedule`)."""
    with kernel.session() as session:
        force = retention.in_force(session)
        periods = rules.pack_periods(kernel.pack)
        merged = {k: max(v, force.get(k, v)) for k, v in periods.items()}
        if merged == force:
            return
        how = "first recorded" if not force else "a longer period in the policy pack"
        repo.audit(
            session, kernel.now(), "system", retention.SCHEDULE_APPLIED,
            rules.SCHEDULE_SUBJECT, periods=merged, how=how,
        )  # fmt: skip
        session.commit()
