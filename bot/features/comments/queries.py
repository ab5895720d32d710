"""The comments feature's own queries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from bot.storage.repository import rowcount
from bot.storage.scoping import SchoolSession, get_in_school
from bot.storage.tables import Comment, OfficialAccount, Reminder


def cancel_comment_reminders(session: SchoolSession, comment_id: int, now: datetime) -> None:
    """A closed comment needs no more reminders."""
    session.execute(
        sa.update(Reminder)
        .where(
            col(Reminder.school_id) == session.school_id,
            col(Reminder.comment_id) == comment_id,
            col(Reminder.status) == "pending",
        )
        .values(status="cancelled", done_at=now)
        .execution_options(synchronize_session=False)
    )


def find_account(session: SchoolSession, account: int | str) -> OfficialAccount | None:
    """By register number, or by name (case-insensitive), among open accounts."""
    number = str(account).strip()
    if isinstance(account, int) or (number.isascii() and number.isdigit()):
        if len(number) > 10 or int(number) > 2**31 - 1:  # no such row, and too big to bind
            return None
        row = get_in_school(session, OfficialAccount, int(number))
        return row if row is not None and row.status == "open" else None
    name = str(account).strip().lower()
    open_here = select(OfficialAccount).where(
        OfficialAccount.school_id == session.school_id, OfficialAccount.status == "open"
    )
    for row in session.exec(open_here):
        if row.name.strip().lower() == name:
            return row
    return None


def open_accounts(session: SchoolSession) -> list[OfficialAccount]:
    return list(
        session.exec(
            select(OfficialAccount)
            .where(OfficialAccount.school_id == session.school_id, OfficialAccount.status == "open")
            .order_by(col(OfficialAccount.id))
        )
    )


def all_accounts(session: SchoolSession) -> list[OfficialAccount]:
    return list(
        session.exec(
            select(OfficialAccount)
            .where(OfficialAccount.school_id == session.school_id)
            .order_by(col(OfficialAccount.id))
        )
    )


def comment_by_external_id(session: SchoolSession, external_id: str) -> Comment | None:
    return session.exec(
        select(Comment).where(
            Comment.school_id == session.school_id, Comment.external_id == external_id
        )
    ).first()


def awaiting_comments(session: SchoolSession, limit: int = 200) -> list[Comment]:
    return list(
        session.exec(
            select(Comment)
            .where(
                Comment.school_id == session.school_id,
                col(Comment.status).in_(("awaiting", "escalated")),
            )
            .order_by(col(Comment.due_at))
            .limit(limit)
        )
    )


def close_comment(
    session: SchoolSession, comment_id: int, status: str, now: datetime, by: str
) -> bool:
    """Compare-and-set: only an open comment can be closed, so a double click closes once."""
    result = session.execute(
        sa.update(Comment)
        .where(
            col(Comment.school_id) == session.school_id,
            col(Comment.id) == comment_id,
            col(Comment.status).in_(("awaiting", "escalated")),
        )
        .values(status=status, closed_at=now, closed_by=by)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
