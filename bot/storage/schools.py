"""The schools of a trust, and the column every school's table carries.

The `school` table is the trust's own list (no row-level security: every instance reads it
to find a request's school). School 1 is the school the install had before; its `pack`,
`name` and `timezone` are empty until someone sets them, which means "as the install's
settings say" (SCHOOLBOT_POLICY), so an upgraded install changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, select

from bot.domain.schools import School
from bot.storage.types import UTCDateTime


def school_column(*, index: bool = True) -> Any:
    """`school_id`: which school a row belongs to. Set from the session (storage.scoping);
    existing rows were given school 1 by migration 0017."""
    return Field(
        default=None,
        foreign_key="school.id",
        index=index,
        nullable=False,
        sa_column_kwargs={"server_default": "1"},
    )


def school_key_column() -> Any:
    """`school_id` as the first part of a table's primary key (per-school keys)."""
    return Field(
        default=None,
        primary_key=True,
        foreign_key="school.id",
        sa_column_kwargs={"server_default": "1", "autoincrement": False},
    )


class SchoolRecord(SQLModel, table=True):
    """One school of the trust."""

    __tablename__ = "school"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name: str | None = Field(default=None, max_length=200)
    # A bundled pack's name or a TOML file's path; None: the SCHOOLBOT_POLICY setting.
    pack: str | None = Field(default=None, max_length=500)
    timezone: str | None = Field(default=None, max_length=60)
    # The school's own [calendar] (working days, hours, closures); None: the pack's.
    calendar: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    created_at: datetime = Field(sa_type=UTCDateTime)

    def to_school(self) -> School:
        assert self.id is not None
        return School(self.id, self.key, self.name, self.pack, self.timezone, self.calendar)


# The trust's list of schools is read before any school is known, so these take a plain
# session (see tests/storage/test_school_signatures.py, which allows this module).


def list_schools(session: Session) -> list[School]:
    rows = session.exec(select(SchoolRecord).order_by(SchoolRecord.id)).all()  # type: ignore[arg-type]
    return [row.to_school() for row in rows]


def find_school(session: Session, key_or_id: str) -> School | None:
    """A school by its key, or by its number."""
    query = select(SchoolRecord)
    if key_or_id.isdigit():
        query = query.where(SchoolRecord.id == int(key_or_id))
    else:
        query = query.where(SchoolRecord.key == key_or_id)
    row = session.exec(query).first()
    return row.to_school() if row else None


def add_school(session: Session, school: School, now: datetime) -> School:
    row = SchoolRecord(
        key=school.key,
        name=school.name,
        pack=school.pack,
        timezone=school.timezone,
        calendar=school.calendar,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.to_school()


def save_school(session: Session, school: School) -> School:
    """Write an edited school back (its key and number never change)."""
    row = session.get(SchoolRecord, school.id)
    assert row is not None, "edit a school read in this session"
    row.name, row.pack, row.timezone = school.name, school.pack, school.timezone
    row.calendar = school.calendar
    session.flush()
    return row.to_school()
