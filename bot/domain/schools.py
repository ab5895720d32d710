"""A school in a trust: who it is and which rules it runs on. Pure Python, no database.

Every school's data carries its id; school 1 is the school an install had before it
became a trust (a trust of one), so an existing install keeps working with no new setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bot.domain.policy import Calendar, PolicyError, PolicyPack, load_pack

FIRST_SCHOOL = 1
KEY_SHAPE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")


@dataclass(frozen=True)
class School:
    """One school. `pack` None means the install's SCHOOLBOT_POLICY setting (school 1 as
    upgraded); `timezone` and `calendar` None mean the pack's own."""

    id: int
    key: str
    name: str | None = None
    pack: str | None = None
    timezone: str | None = None
    calendar: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    def rules(self, install_pack: str) -> PolicyPack:
        """The pack this school runs on, with its own timezone and calendar over the pack's."""
        return apply_calendar(load_pack(self.pack or install_pack), self.timezone, self.calendar)


def apply_calendar(
    pack: PolicyPack, timezone: str | None, calendar: dict[str, Any] | None
) -> PolicyPack:
    """The pack with a school's own calendar (and timezone) in place of the pack's."""
    if timezone is None and calendar is None:
        return pack
    chosen = dict(calendar) if calendar is not None else pack.calendar.model_dump()
    if timezone is not None:
        chosen["timezone"] = timezone
    return pack.model_copy(update={"calendar": parse_calendar(chosen)})


def parse_calendar(data: dict[str, Any], source: str = "calendar") -> Calendar:
    """A calendar checked as a pack's [calendar] table is; PolicyError says what is wrong."""
    try:
        return Calendar.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in error['loc']) or source}: {error['msg']}"
            for error in exc.errors()
        ]
        raise PolicyError(source, problems) from exc


def check_key(key: str) -> str:
    """A school's short key (used in commands and logs): lower-case letters, digits, dashes."""
    if not KEY_SHAPE.fullmatch(key):
        raise ValueError(
            f"'{key}' can't be a school's key: use 2 to 40 lower-case letters, digits or "
            "dashes, starting with a letter or digit (for example kings-school)"
        )
    return key
