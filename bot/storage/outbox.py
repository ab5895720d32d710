"""The outbox table and the terminal chat's inbox: queueing messages for the platforms,
and reading back what a person was sent. All take the caller's session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.storage.scoping import SchoolSession
from bot.storage.tables import InboxCursor, Outbox

# --- outbox ---------------------------------------------------------------------------


_OUTBOX_BATCH = "outbox_batch"


def enqueue(
    session: SchoolSession,
    now: datetime,
    platform: str,
    target_kind: str,
    target: str,
    *,
    message: dict[str, Any],
    **links: int | None,
) -> None:
    """Queue one send. `links`: case_id, replaces_id (an update to an earlier alert) and
    priority (domain.messages.Priority; NORMAL if not given)."""
    unknown = set(links) - {"case_id", "replaces_id", "priority"}
    if unknown:
        raise TypeError(f"enqueue: unknown column(s) {sorted(unknown)}")
    row = {
        "school_id": session.school_id,
        "platform": platform,
        "target_kind": target_kind,
        "target": target,
        "message": message,
        "case_id": links.get("case_id"),
        "replaces_id": links.get("replaces_id"),
        "priority": 1 if links.get("priority") is None else links["priority"],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    batch = session.info.get(_OUTBOX_BATCH)
    if batch is not None:
        batch.append(row)
    else:
        session.execute(sa.insert(Outbox.__table__), [row])  # type: ignore[attr-defined]


@contextmanager
def outbox_batch(session: SchoolSession) -> Iterator[None]:
    """Collect the messages queued inside, and insert them in one statement at the end."""
    session.info[_OUTBOX_BATCH] = []
    try:
        yield
        rows = session.info[_OUTBOX_BATCH]
        if rows:
            session.execute(sa.insert(Outbox.__table__), rows)  # type: ignore[attr-defined]
    finally:
        session.info.pop(_OUTBOX_BATCH, None)


def first_alert_for(session: SchoolSession, case_id: int) -> Outbox | None:
    return session.exec(
        select(Outbox)
        .where(
            Outbox.school_id == session.school_id,
            Outbox.case_id == case_id,
            Outbox.target_kind == "team",
            col(Outbox.replaces_id).is_(None),
        )
        .order_by(col(Outbox.id))
    ).first()


def _visible_to(user_id: str, teams: set[str]) -> Any:
    """Outbox rows this person reads in the terminal chat: DMs to them, their teams' alerts."""
    conditions = [sa.and_(col(Outbox.target_kind) == "user", col(Outbox.target) == user_id)]
    if teams:
        conditions.append(sa.and_(col(Outbox.target_kind) == "team", col(Outbox.target).in_(teams)))
    return sa.or_(*conditions)


def inbox_since(
    session: SchoolSession, platform: str, user_id: str, teams: set[str]
) -> list[Outbox]:
    """Terminal-chat messages for this person (DMs and their teams') after their cursor."""
    cursor = session.get(InboxCursor, (session.school_id, platform, user_id))
    last = cursor.last_id if cursor else 0
    rows = list(
        session.exec(
            select(Outbox)
            .where(
                Outbox.school_id == session.school_id,
                Outbox.platform == platform,
                col(Outbox.id) > last,
                _visible_to(user_id, teams),
            )
            .order_by(col(Outbox.id))
        )
    )
    return rows


def messages_mentioning(
    session: SchoolSession,
    platform: str,
    user_id: str,
    teams: set[str],
    ref: str,
    *,
    limit: int = 50,
) -> list[Outbox]:
    """The newest messages this person could read that mention `ref` (e.g. "FR-0006")."""
    text = sa.cast(col(Outbox.message), sa.Text)
    return list(
        session.exec(
            select(Outbox)
            .where(
                Outbox.school_id == session.school_id,
                Outbox.platform == platform,
                _visible_to(user_id, teams),
                text.like(f'%"{ref}%'),
            )
            .order_by(col(Outbox.id).desc())
            .limit(limit)
        )
    )


def newest_copies(rows: list[Outbox]) -> list[Outbox]:
    """Each alert once, as it is now: of the copies of one case's alert waiting unread (the
    first and each update posted since), only the newest, where it stands among the rest.
    A role holder's first chat then shows each case once, not every change it went through."""

    def copy_of(row: Outbox) -> tuple[object, ...]:
        if row.case_id is None:
            return ("row", row.id)
        if row.target_kind == "team":
            return ("team", row.replaces_id or row.id)
        title = str(row.message.get("title") or "").removeprefix("URGENT: ")
        return ("user", row.case_id, title) if title else ("row", row.id)

    newest = {copy_of(row): row.id for row in rows}
    return [row for row in rows if newest[copy_of(row)] == row.id]


def move_inbox_cursor(session: SchoolSession, platform: str, user_id: str, last_id: int) -> None:
    cursor = session.get(InboxCursor, (session.school_id, platform, user_id)) or InboxCursor(
        platform=platform, user_id=user_id
    )
    cursor.last_id = max(cursor.last_id, last_id)
    session.add(cursor)
