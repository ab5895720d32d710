"""The school a database session works for, and the two locks that keep it to that school.

A `SchoolSession` is opened for one school (or, audited, for the whole trust) and can't
be opened without one. Every repository function takes one, so its queries know the
school: they filter by `session.school_id` themselves (SQLite has no row-level security),
and on PostgreSQL the school is also set for the transaction (`set_config(..., true)`),
where the row-level security policies of migration 0017 hide every other school's rows
from whatever statement runs. A transaction-local setting ends with the transaction, so a
pooled connection handed to the next school remembers nothing of this one.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

T = TypeVar("T")

SCHOOL_SETTING = "app.school_id"
TRUST_SETTING = "app.trust_scope"


class CrossSchool(RuntimeError):
    """A row of another school reached a session of this one: a query forgot its school."""


class SchoolSession(Session):
    """A session for one school (`school_id`), or for the trust (`trust` True: trust-wide
    jobs, which see every school and must say why in the audit trail)."""

    def __init__(self, bind: Any, *, school_id: int, trust: bool = False, **kw: Any):
        super().__init__(bind, **kw)
        self.school_id = school_id
        self.trust = trust


def get_in_school(session: SchoolSession, model: type[T], key: Any) -> T | None:
    """`session.get` for a table with a single-column key, None for another school's row
    (an id typed or pressed by someone at another school finds nothing)."""
    row = session.execute(
        sa.select(model).where(
            sa.inspect(model).primary_key[0] == key,
            *([] if session.trust else [model.school_id == session.school_id]),  # type: ignore[attr-defined]
        )
    ).scalar_one_or_none()
    return row


def _trust_wide(row: Any) -> bool:
    """Trust-wide routing rows (a Slack workspace's or a Teams team's school): read before
    a request's school is known, so their `school_id` says where to, not whose."""
    return bool(getattr(type(row), "trust_wide", False))


@event.listens_for(SchoolSession, "after_begin")
def _set_school(session: OrmSession, _transaction: Any, connection: sa.Connection) -> None:
    """PostgreSQL: the school (or the trust scope) for this transaction only."""
    if connection.dialect.name != "postgresql" or not isinstance(session, SchoolSession):
        return
    connection.execute(
        sa.text("SELECT set_config(:school, :id, true), set_config(:trust, :scope, true)"),
        {
            "school": SCHOOL_SETTING,
            "id": str(session.school_id),
            "trust": TRUST_SETTING,
            "scope": "on" if session.trust else "off",
        },
    )


@event.listens_for(SchoolSession, "before_flush")
def _stamp_school(session: OrmSession, _context: Any, _instances: Any) -> None:
    """New rows belong to the session's school; a row for another school is refused."""
    if not isinstance(session, SchoolSession):
        return
    for row in session.new:
        if not hasattr(row, "school_id") or _trust_wide(row):
            continue
        if row.school_id is None:
            row.school_id = session.school_id
        elif row.school_id != session.school_id and not session.trust:
            raise CrossSchool(
                f"a {type(row).__name__} of school {row.school_id} added in a session of "
                f"school {session.school_id}"
            )


@event.listens_for(SchoolSession, "loaded_as_persistent")
def _check_loaded(session: OrmSession, row: Any) -> None:
    """The SQLite backstop for ORM reads (`session.get` by id included): a row of another
    school is never handed back."""
    if not isinstance(session, SchoolSession) or session.trust:
        return
    school_id = getattr(row, "school_id", None)
    if school_id is not None and school_id != session.school_id and not _trust_wide(row):
        raise CrossSchool(
            f"a {type(row).__name__} of school {school_id} read in a session of "
            f"school {session.school_id}"
        )
