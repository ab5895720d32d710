"""The figures /metrics reads from the database at each scrape: counts and ages only.

Every instance reads the same shared tables, so each reports the whole system's outbox
and open urgent cases (in Prometheus take max() across instances, not sum())."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, select

from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case, Outbox


@dataclass(frozen=True)
class Figures:
    outbox: dict[str, tuple[int, float, int]]  # platform: (waiting, oldest age s, failed)
    urgent: int  # open urgent cases nobody has acknowledged
    urgent_oldest: float  # age in seconds of the oldest of them (0 when none)
    waiting: dict[tuple[str, int], int]  # (platform, priority): messages waiting


def figures(session: SchoolSession, now: datetime) -> Figures:
    outbox: dict[str, tuple[int, float, int]] = {}
    pending = session.exec(
        select(Outbox.platform, sa.func.count(), sa.func.min(Outbox.created_at))
        .where(Outbox.school_id == session.school_id, Outbox.status == "pending")
        .group_by(Outbox.platform)
    )
    for platform, count, oldest in pending:
        outbox[platform] = (count, _age(now, oldest), 0)
    failed = session.exec(
        select(Outbox.platform, sa.func.count())
        .where(Outbox.school_id == session.school_id, Outbox.status == "failed")
        .group_by(Outbox.platform)
    )
    for platform, count in failed:
        depth, age, _ = outbox.get(platform, (0, 0.0, 0))
        outbox[platform] = (depth, age, count)
    waiting = {
        (platform, priority): count
        for platform, priority, count in session.exec(
            select(Outbox.platform, Outbox.priority, sa.func.count())
            .where(Outbox.school_id == session.school_id, Outbox.status == "pending")
            .group_by(col(Outbox.platform), col(Outbox.priority))
        )
    }
    count, oldest = session.exec(
        select(sa.func.count(), sa.func.min(Case.created_at)).where(
            Case.school_id == session.school_id,
            col(Case.urgent).is_(True),
            col(Case.acknowledged_at).is_(None),
            col(Case.closed_at).is_(None),
            col(Case.disposed_at).is_(None),
        )
    ).one()
    return Figures(outbox, count, _age(now, oldest), waiting)


def _age(now: datetime, then: datetime | str | None) -> float:
    """Seconds since `then`. SQLite hands back an aggregate's time as text, without the
    column's type, so it is read back here."""
    if then is None:
        return 0.0
    if isinstance(then, str):
        then = datetime.fromisoformat(then)
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())
