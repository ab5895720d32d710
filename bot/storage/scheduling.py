"""Queries for the scheduler: reminders to claim, outbox rows to claim, comments.

Claims are what make several instances safe. PostgreSQL takes due rows with
`FOR UPDATE SKIP LOCKED`, so two instances never pick the same row and neither waits for
the other; SQLite (one writer at a time) gets the same effect from a compare-and-set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.repository import insert_new, rowcount
from bot.storage.tables import Case, Comment, OfficialAccount, Outbox, Reminder, RoleAssignment


def schedule(
    session: Session,
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


def claim_due_reminders(session: Session, now: datetime, limit: int) -> list[Reminder]:
    """Due reminders this transaction now owns, oldest first.

    The rows stay locked (PostgreSQL) or already marked (SQLite) until the caller commits,
    and a crash before the commit rolls everything back, so the next sweep retakes them.
    """
    query = (
        select(Reminder)
        .where(Reminder.status == "pending", col(Reminder.due_at) <= now)
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


def finish_reminders(session: Session, done: list[tuple[int, str]], now: datetime) -> None:
    """Mark (id, outcome) pairs done in one statement."""
    if not done:
        return
    table = Reminder.__table__  # type: ignore[attr-defined]
    session.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("rid"))
        .values(status="done", done_at=now, outcome=sa.bindparam("what")),
        [{"rid": rid, "what": what[:200]} for rid, what in done],
    )


def cancel_comment_reminders(session: Session, comment_id: int, now: datetime) -> None:
    """A closed comment needs no more reminders."""
    session.execute(
        sa.update(Reminder)
        .where(col(Reminder.comment_id) == comment_id, col(Reminder.status) == "pending")
        .values(status="cancelled", done_at=now)
        .execution_options(synchronize_session=False)
    )


# --- outbox claims ----------------------------------------------------------------------


def claim_outbox(
    session: Session, platform: str, now: datetime, lease: timedelta, limit: int, token: str
) -> list[tuple[Outbox, bool]]:
    """Take due outbox rows for `lease`, returning (row, maybe_sent) pairs.

    The lease is the row's next attempt time: if this instance dies before recording the
    send, the row falls due again when the lease ends and another instance takes it over.
    `maybe_sent` is True when an earlier claim was never recorded (a kill between the
    send and its record): the adapter looks for the message before sending it again.
    """
    query = (
        select(Outbox)
        .where(
            Outbox.platform == platform,
            Outbox.status == "pending",
            col(Outbox.next_attempt_at) <= now,
        )
        .order_by(col(Outbox.id))
        .limit(limit)
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    rows = session.exec(query.with_for_update(skip_locked=True) if postgres else query).all()
    taken: list[tuple[Outbox, bool]] = []
    for row in rows:
        result = session.execute(
            sa.update(Outbox)
            .where(
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


def renew_claim(
    session: Session, outbox_id: int, token: str, now: datetime, lease: timedelta
) -> bool:
    """Just before sending: still ours? Then hold it for another lease.

    A batch can take longer than one lease (a slow or rate-limited platform); by then
    another instance may have taken a row over, and this instance must not send it too.
    """
    result = session.execute(
        sa.update(Outbox)
        .where(
            col(Outbox.id) == outbox_id,
            col(Outbox.status) == "pending",
            col(Outbox.claim_token) == token,
        )
        .values(next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


# --- comments and the register --------------------------------------------------------


def find_account(session: Session, account: int | str) -> OfficialAccount | None:
    """By register number, or by name (case-insensitive), among open accounts."""
    number = str(account).strip()
    if isinstance(account, int) or (number.isascii() and number.isdigit()):
        if len(number) > 10 or int(number) > 2**31 - 1:  # no such row, and too big to bind
            return None
        row = session.get(OfficialAccount, int(number))
        return row if row is not None and row.status == "open" else None
    name = str(account).strip().lower()
    for row in session.exec(select(OfficialAccount).where(OfficialAccount.status == "open")):
        if row.name.strip().lower() == name:
            return row
    return None


def open_accounts(session: Session) -> list[OfficialAccount]:
    return list(
        session.exec(
            select(OfficialAccount)
            .where(OfficialAccount.status == "open")
            .order_by(col(OfficialAccount.id))
        )
    )


def all_accounts(session: Session) -> list[OfficialAccount]:
    return list(session.exec(select(OfficialAccount).order_by(col(OfficialAccount.id))))


def comment_by_external_id(session: Session, external_id: str) -> Comment | None:
    return session.exec(select(Comment).where(Comment.external_id == external_id)).first()


def awaiting_comments(session: Session, limit: int = 200) -> list[Comment]:
    return list(
        session.exec(
            select(Comment)
            .where(col(Comment.status).in_(("awaiting", "escalated")))
            .order_by(col(Comment.due_at))
            .limit(limit)
        )
    )


def close_comment(session: Session, comment_id: int, status: str, now: datetime, by: str) -> bool:
    """Compare-and-set: only an open comment can be closed, so a double click closes once."""
    result = session.execute(
        sa.update(Comment)
        .where(col(Comment.id) == comment_id, col(Comment.status).in_(("awaiting", "escalated")))
        .values(status=status, closed_at=now, closed_by=by)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def known_people(session: Session) -> set[tuple[str, str]]:
    """Everyone the bot can message: role holders, reporters and account contacts."""
    people: set[tuple[str, str]] = set()
    for platform, user in session.exec(select(RoleAssignment.platform, RoleAssignment.user_id)):
        people.add((platform, user))
    for platform, user in session.exec(select(Case.platform, Case.reporter_id).distinct()):
        people.add((platform, user))
    for account in open_accounts(session):
        for contact in account.contacts:
            platform, _, user = contact.partition(":")
            if user:
                people.add((platform, user))
    return people
