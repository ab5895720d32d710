"""Queries for the scheduler: reminders to claim, outbox rows to claim, comments.

Claims are what make several instances safe. PostgreSQL takes due rows with
`FOR UPDATE SKIP LOCKED`, so two instances never pick the same row and neither waits for
the other; SQLite (one writer at a time) gets the same effect from a compare-and-set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from bot.storage.repository import insert_new, rowcount
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Outbox, Reminder


def schedule(
    session: SchoolSession,
    key: str,
    kind: str,
    due_at: datetime,
    *,
    comment_id: int | None = None,
    case_id: int | None = None,
    task_id: int | None = None,
) -> None:
    """Add a reminder unless one with this key exists (scheduling twice is harmless)."""
    insert_new(
        session,
        Reminder,
        key=key,
        kind=kind,
        due_at=due_at,
        status="pending",
        comment_id=comment_id,
        case_id=case_id,
        task_id=task_id,
    )


def claim_due_reminders(session: SchoolSession, now: datetime, limit: int) -> list[Reminder]:
    """Due reminders this transaction now owns, oldest first.

    The rows stay locked (PostgreSQL) or already marked (SQLite) until the caller commits,
    and a crash before the commit rolls everything back, so the next sweep retakes them.
    """
    query = (
        select(Reminder)
        .where(
            Reminder.school_id == session.school_id,
            Reminder.status == "pending",
            col(Reminder.due_at) <= now,
        )
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        return list(session.exec(query.with_for_update(skip_locked=True)))
    candidates = list(session.exec(query))
    if not candidates:
        return []
    # One compare-and-set for the lot: only rows still pending are ours.
    taken = set(
        session.execute(
            sa.update(Reminder)
            .where(
                col(Reminder.school_id) == session.school_id,
                col(Reminder.id).in_([r.id for r in candidates]),
                # "+status": SQLite's idiom to keep this term off the (status, due_at)
                # index, so the rows are found by id rather than by scanning every pending
                # reminder (13x slower at a million stored comments).
                sa.literal_column("+status") == "pending",
            )
            .values(status="claimed")
            .returning(col(Reminder.id))
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    return [r for r in candidates if r.id in taken]


def finish_reminders(session: SchoolSession, done: list[tuple[int, str]], now: datetime) -> None:
    """Mark (id, outcome) pairs done in one statement."""
    if not done:
        return
    table = Reminder.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table)
        .where(table.c.school_id == session.school_id, table.c.id == sa.bindparam("rid"))
        .values(status="done", done_at=now, outcome=sa.bindparam("what")),
        [{"rid": rid, "what": what[:200]} for rid, what in done],
    )


# --- outbox claims ----------------------------------------------------------------------


def claim_outbox(
    session: SchoolSession,
    platform: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    *,
    token: str,
    bulk: tuple[int, int] | None = None,
    fifo: bool = False,
) -> list[tuple[Outbox, bool]]:
    """Take due outbox rows for `lease`, returning (row, maybe_sent) pairs, most urgent
    first (Outbox.priority), then oldest.

    `bulk` is (priority, at most): rows of that priority or lower count against their own
    smaller limit, so a pass holds only the bulk sends it can pace out soon, and a more
    urgent row written meanwhile is never stuck behind a long claimed batch. `fifo` is the
    order before priorities (oldest first, whatever it is), kept as the benchmark's baseline.

    The lease is the row's next attempt time: if this instance dies before recording the
    send, the row falls due again when the lease ends and another instance takes it over.
    `maybe_sent` is True when an earlier claim was never recorded (a kill between the
    send and its record): the adapter looks for the message before sending it again.
    """
    due = (
        Outbox.school_id == session.school_id,
        Outbox.platform == platform,
        Outbox.status == "pending",
        col(Outbox.next_attempt_at) <= now,
    )
    order = (col(Outbox.id),) if fifo else (col(Outbox.priority), col(Outbox.id))
    if bulk is None or fifo:
        parts = [(select(Outbox).where(*due), limit)]
    else:
        level, most = bulk
        parts = [
            (select(Outbox).where(*due, col(Outbox.priority) < level), limit),
            (select(Outbox).where(*due, col(Outbox.priority) >= level), most),
        ]
    postgres = session.get_bind().dialect.name == "postgresql"
    rows: list[Outbox] = []
    for query, cap in parts:
        room = min(cap, limit - len(rows))
        if room > 0:
            query = query.order_by(*order).limit(room)
            rows += session.exec(query.with_for_update(skip_locked=True) if postgres else query)
    taken: list[tuple[Outbox, bool]] = []
    for row in rows:
        result = session.execute(
            sa.update(Outbox)
            .where(
                col(Outbox.school_id) == session.school_id,
                col(Outbox.id) == row.id,
                col(Outbox.status) == "pending",
                col(Outbox.next_attempt_at) == row.next_attempt_at,
            )
            .values(next_attempt_at=now + lease, claim_token=token)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            taken.append((row, row.claim_token is not None))
    return taken


def release_claims(
    session: SchoolSession, outbox_ids: list[int], token: str, now: datetime
) -> None:
    """Give back claimed rows not sent yet (a more urgent send came in): due again now,
    and not "maybe sent", since nothing was tried."""
    if not outbox_ids:
        return
    session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.school_id) == session.school_id,
            col(Outbox.id).in_(outbox_ids),
            col(Outbox.status) == "pending",
            col(Outbox.claim_token) == token,
        )
        .values(next_attempt_at=now, claim_token=None)
        .execution_options(synchronize_session=False)
    )


def renew_claim(
    session: SchoolSession, outbox_id: int, token: str, now: datetime, lease: timedelta
) -> bool:
    """Just before sending: still ours? Then hold it for another lease.

    A batch can take longer than one lease (a slow or rate-limited platform); by then
    another instance may have taken a row over, and this instance must not send it too.
    """
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.school_id) == session.school_id,
            col(Outbox.id) == outbox_id,
            col(Outbox.status) == "pending",
            col(Outbox.claim_token) == token,
        )
        .values(next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


# --- comments and the register --------------------------------------------------------
