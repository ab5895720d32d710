"""Intake records: written in batches before the ack, deleted once their work is done."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.storage.repository import rowcount
from bot.storage.scoping import SchoolSession
from bot.storage.tables import IntakeRequest

TABLE: sa.Table = IntakeRequest.__table__  # type: ignore[attr-defined]  # set by sqlmodel


def record(session: SchoolSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows in one statement; their ids, in the order given."""
    if not rows:
        return []
    insert = sa.insert(TABLE).returning(TABLE.c.id, sort_by_parameter_order=True)
    rows = [{**row, "school_id": session.school_id} for row in rows]
    return [int(r.id) for r in session.execute(insert, rows)]


def record_missing(session: SchoolSession, rows: list[dict[str, Any]]) -> int:
    """Insert the rows the table doesn't already have (the same request accepted at the
    same moment): requests a killed process had acknowledged; returns how many."""
    added = 0
    for row in rows:
        exists = session.execute(
            sa.select(TABLE.c.id).where(
                TABLE.c.school_id == session.school_id,
                TABLE.c.platform == row["platform"],
                TABLE.c.person == row["person"],
                TABLE.c.kind == row["kind"],
                TABLE.c.accepted_at == row["accepted_at"],
            )
        ).first()
        if exists is None:
            record(session, [row])
            added += 1
    return added


def keep_result(session: SchoolSession, request_id: int, result: dict[str, Any]) -> None:
    """In the transaction of the turn the request caused, so a rerun won't redo the turn
    (the column is `replies`: it holds the turn's status and replies)."""
    session.execute(
        sa.update(TABLE)
        .where(TABLE.c.school_id == session.school_id, TABLE.c.id == request_id)
        .values(replies=result)
    )


def forget(session: SchoolSession, before: datetime) -> int:
    """Drop requests accepted before `before` that nobody ran (their platform was turned
    off), so what staff wrote is not kept for ever; returns how many."""
    return rowcount(
        session.execute(
            sa.delete(TABLE).where(
                TABLE.c.school_id == session.school_id, TABLE.c.accepted_at < before
            )
        )
    )


def finish(session: SchoolSession, ids: list[int]) -> None:
    if ids:
        session.execute(
            sa.delete(TABLE).where(TABLE.c.school_id == session.school_id, TABLE.c.id.in_(ids))
        )


def renew(session: SchoolSession, instance: str, now: datetime) -> None:
    """Say this instance is alive and still has its rows in hand."""
    session.execute(
        sa.update(TABLE)
        .where(TABLE.c.school_id == session.school_id, TABLE.c.instance == instance)
        .values(renewed_at=now)
    )


def claim_orphans(
    session: SchoolSession,
    platform: str,
    instance: str,
    now: datetime,
    lease: timedelta,
    *,
    limit: int,
) -> list[IntakeRequest]:
    """Take over other instances' rows nobody has renewed for `lease` (their instance
    died), oldest first. Compare-and-set on the renewal time, and SKIP LOCKED on
    PostgreSQL, so two instances never take the same row.
    """
    query = (
        select(IntakeRequest)
        .where(
            col(IntakeRequest.school_id) == session.school_id,
            col(IntakeRequest.platform) == platform,
            col(IntakeRequest.instance) != instance,  # ours are in hand, however late
            col(IntakeRequest.renewed_at) <= now - lease,
        )
        .order_by(col(IntakeRequest.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = []
    for row in session.exec(query).all():
        result = session.execute(
            sa.update(TABLE)
            .where(
                TABLE.c.school_id == session.school_id,
                TABLE.c.id == row.id,
                TABLE.c.renewed_at == row.renewed_at,
            )
            .values(instance=instance, renewed_at=now)
        )
        if rowcount(result) == 1:
            taken.append(row)
    return taken
