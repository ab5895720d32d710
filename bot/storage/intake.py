"""Accepted requests: written in batches before the ack, deleted once their work is done."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.repository import rowcount
from bot.storage.tables import AcceptedRequest

TABLE: sa.Table = AcceptedRequest.__table__  # type: ignore[attr-defined]  # set by sqlmodel


def record(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows in one statement; their ids, in the order given."""
    if not rows:
        return []
    insert = sa.insert(TABLE).returning(TABLE.c.id, sort_by_parameter_order=True)
    return [int(r.id) for r in session.execute(insert, rows)]


def record_missing(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows the table doesn't already have (the same request accepted at the
    same moment): requests a killed process had acknowledged; returns how many."""
    added = 0
    for row in rows:
        exists = session.execute(
            sa.select(TABLE.c.id).where(
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


def keep_replies(session: Session, request_id: int, replies: list[dict[str, Any]]) -> None:
    """In the transaction of the turn the request caused, so a rerun won't redo the turn."""
    session.execute(sa.update(TABLE).where(TABLE.c.id == request_id).values(replies=replies))


def forget(session: Session, before: datetime) -> int:
    """Drop requests accepted before `before` that nobody ran (their platform was turned
    off), so what staff wrote is not kept for ever; returns how many."""
    return rowcount(session.execute(sa.delete(TABLE).where(TABLE.c.accepted_at < before)))


def finish(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(sa.delete(TABLE).where(TABLE.c.id.in_(ids)))


def renew(session: Session, instance: str, now: datetime) -> None:
    """Say this instance is alive and still has its rows in hand."""
    session.execute(sa.update(TABLE).where(TABLE.c.instance == instance).values(renewed_at=now))


def claim_orphans(
    session: Session, platform: str, instance: str, now: datetime, lease: timedelta, limit: int
) -> list[AcceptedRequest]:
    """Take over other instances' rows nobody has renewed for `lease` (their instance
    died), oldest first. Compare-and-set on the renewal time, and SKIP LOCKED on
    PostgreSQL, so two instances never take the same row.
    """
    query = (
        select(AcceptedRequest)
        .where(
            col(AcceptedRequest.platform) == platform,
            col(AcceptedRequest.instance) != instance,  # ours are in hand, however late
            col(AcceptedRequest.renewed_at) <= now - lease,
        )
        .order_by(col(AcceptedRequest.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = []
    for row in session.exec(query).all():
        result = session.execute(
            sa.update(TABLE)
            .where(TABLE.c.id == row.id, TABLE.c.renewed_at == row.renewed_at)
            .values(instance=instance, renewed_at=now)
        )
        if rowcount(result) == 1:
            taken.append(row)
    return taken
