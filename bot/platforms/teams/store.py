"""Stored Teams conversation references, so alerts and DMs can be sent later (proactively).

A reference is Bot Framework's ConversationReference as a JSON dict. Keys: "user:<id>"
(a person's personal chat), "member:<id>" (what it takes to open that chat for someone
seen only in a channel), "card:<id>:<activity>" (a question card still waiting for its
answer in a personal chat), "channel:<id>" (a channel the app was installed in) and
"team:dsl" / "team:slt" (the channel a DSL or SLT member chose for their team's alerts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select

from bot.domain.cases import teams_of
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import ConversationRef

PLATFORM = "teams"
TEAM_LABELS = {"dsl": "safeguarding (DSL)", "slt": "senior leadership (SLT)"}


def save(kernel: Kernel, key: str, reference: dict[str, Any]) -> None:
    with kernel.session() as session:
        row = session.get(ConversationRef, (session.school_id, PLATFORM, key))
        if row is None:
            row = ConversationRef(platform=PLATFORM, key=key, updated_at=kernel.now())
        elif row.reference == reference:
            return  # the usual case: nothing changed, no write
        row.reference, row.updated_at = reference, kernel.now()
        session.add(row)
        session.commit()


def put_many(
    kernel: Kernel,
    references: dict[str, dict[str, Any]],
    forget: list[tuple[str, datetime]],
) -> None:
    """Write references without reading them first (a new card's key is new every time),
    in one statement, and drop the older ones under each `forget` prefix (a key prefix, a
    time) in the same transaction."""
    with kernel.session() as session:
        for prefix, before in forget:
            _forget_older(session, prefix, before)
        now = kernel.now()
        rows = [
            {
                "school_id": session.school_id,
                "platform": PLATFORM,
                "key": key,
                "reference": reference,
                "updated_at": now,
            }
            for key, reference in references.items()
        ]
        if rows:
            session.execute(_upsert(session), rows)
        session.commit()


_UPSERTS: dict[str, Any] = {}


def _upsert(session: SchoolSession) -> Any:
    """INSERT ... ON CONFLICT (school_id, platform, key) DO UPDATE, built once per dialect."""
    name = session.get_bind().dialect.name
    if name not in _UPSERTS:
        table = ConversationRef.__table__  # type: ignore[attr-defined]
        insert = (postgresql if name == "postgresql" else sqlite).insert(table)
        _UPSERTS[name] = insert.on_conflict_do_update(
            index_elements=[table.c.school_id, table.c.platform, table.c.key],
            set_={"reference": insert.excluded.reference, "updated_at": insert.excluded.updated_at},
        )
    return _UPSERTS[name]


def load(kernel: Kernel, key: str) -> dict[str, Any] | None:
    with kernel.session() as session:
        row = session.get(ConversationRef, (session.school_id, PLATFORM, key))
        return dict(row.reference) if row else None


def any_channel(kernel: Kernel) -> dict[str, Any] | None:
    """Any team channel we were installed in: its kernel URL and tenant reach the others."""
    with kernel.session() as session:
        row = session.exec(
            select(ConversationRef)
            .where(
                col(ConversationRef.school_id) == session.school_id,
                ConversationRef.platform == PLATFORM,
            )
            .where(col(ConversationRef.key).startswith("channel:"))
            .order_by(col(ConversationRef.updated_at).desc())
        ).first()
        return dict(row.reference) if row else None


def may_choose(kernel: Kernel, user_id: str, team: str) -> bool:
    """Only the team itself picks its channel; approvers count as SLT (as in the inbox)."""
    with kernel.session() as session:
        actor = kernel.actor(session, PLATFORM, user_id)
    teams = teams_of(kernel.pack, actor)
    if actor.roles & set(kernel.pack.accounts.stages):
        teams.add("slt")
    return team in teams


def choose_channel(
    kernel: Kernel, user_id: str, name: str | None, team: str, reference: dict[str, Any]
) -> str:
    """Record the channel for a team's alerts, if this person may; the reply says which."""
    if not may_choose(kernel, user_id, team):
        return (
            f"Only the {TEAM_LABELS[team]} team can choose where its alerts go. "
            "Nothing has changed."
        )
    with kernel.session() as session:
        row = session.get(ConversationRef, (session.school_id, PLATFORM, f"team:{team}"))
        if row is None:
            row = ConversationRef(platform=PLATFORM, key=f"team:{team}", updated_at=kernel.now())
        row.reference, row.updated_at = reference, kernel.now()
        session.add(row)
        repo.audit(
            session,
            kernel.now(),
            f"{PLATFORM}:{user_id}",
            "teams.channel_chosen",
            f"team:{team}",
            by=name or user_id,
        )
        session.commit()
    return f"Done: new {TEAM_LABELS[team]} alerts will be posted in this channel."


def take(kernel: Kernel, key: str) -> dict[str, Any] | None:
    """Load and forget in one go (a card that is being closed)."""
    with kernel.session() as session:
        row = session.get(ConversationRef, (session.school_id, PLATFORM, key))
        if row is None:
            return None
        session.delete(row)
        session.commit()
        return dict(row.reference)


def take_where(kernel: Kernel, prefix: str, field: str, value: str) -> list[dict[str, Any]]:
    """Load and forget every reference under `prefix` whose `field` is `value` (a person's
    cards that ask one question: a handful at most, as each goes when it is answered)."""
    with kernel.session() as session:
        rows = session.exec(
            select(ConversationRef)
            .where(
                col(ConversationRef.school_id) == session.school_id,
                ConversationRef.platform == PLATFORM,
            )
            .where(col(ConversationRef.key).startswith(prefix))
        ).all()
        found = [row for row in rows if row.reference.get(field) == value]
        for row in found:
            session.delete(row)
        if found:
            session.commit()
        return [dict(row.reference) for row in found]


def _forget_older(session: SchoolSession, prefix: str, before: datetime) -> None:
    session.execute(
        delete(ConversationRef)
        .where(
            col(ConversationRef.school_id) == session.school_id,
            col(ConversationRef.platform) == PLATFORM,
        )
        .where(col(ConversationRef.key).startswith(prefix))
        .where(col(ConversationRef.updated_at) < before)
    )
