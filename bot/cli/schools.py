"""`schoolbot schools`: the schools of a trust, each with its own policy pack, timezone and
calendar. School 1 is the install's first school (its pack is SCHOOLBOT_POLICY until set)."""

from __future__ import annotations

import getpass
import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from bot.cli.common import _settings
from bot.cli.school_choice import school_line
from bot.domain.policy import PolicyError, PolicyPack, load_pack
from bot.domain.schools import FIRST_SCHOOL, School, check_key, parse_calendar


@click.group()
def schools() -> None:
    """The schools this install serves (a trust of one until you add another). Every
    other command that works on a school's records takes `--school KEY_OR_ID`."""


def _engine() -> Any:
    from bot.storage import db

    settings = _settings()
    db.upgrade(settings.migration_url, app_url=settings.resolved_database_url)
    return db.make_engine(settings.resolved_database_url)


def _pack_or_stop(pack: str) -> str:
    """A pack that passes `policy check`, stored so it is found again from any folder."""
    try:
        load_pack(pack)
    except PolicyError as exc:
        problems = "\n".join(f"  - {p}" for p in exc.problems)
        raise click.ClickException(
            f"{exc.source} is not a valid policy pack, so nothing was saved:\n{problems}"
        ) from None
    path = Path(pack)
    return str(path.resolve()) if path.suffix == ".toml" or path.exists() else pack


def _timezone_or_stop(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.ClickException(
            f"'{timezone}' is not a timezone name such as Europe/London; nothing was saved."
        ) from None
    return timezone


def _calendar_or_stop(file: Path) -> dict[str, Any]:
    """A TOML file with a [calendar] table like a pack's (working days, hours, closures)."""
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.ClickException(f"I can't read {file}: {exc}. Nothing was saved.") from None
    calendar = data.get("calendar", data)
    if not isinstance(calendar, dict):
        raise click.ClickException(f"{file} has no [calendar] table. Nothing was saved.")
    try:  # kept as checked, in JSON's terms (dates as text)
        return parse_calendar(calendar, str(file)).model_dump(mode="json")
    except PolicyError as exc:
        raise _not_saved(exc) from None


def _not_saved(problem: PolicyError) -> click.ClickException:
    problems = "\n".join(f"  - {p}" for p in problem.problems)
    return click.ClickException(f"That calendar can't be used, so nothing was saved:\n{problems}")


def _rules_or_stop(school: School, install_pack: str) -> PolicyPack:
    """The school's pack with its calendar, checked together before anything is saved."""
    try:
        return school.rules(install_pack)
    except PolicyError as exc:
        raise _not_saved(exc) from None


def _find_or_stop(session: Any, key_or_id: str) -> School:
    from bot.storage.schools import find_school, list_schools

    found = find_school(session, key_or_id)
    if found is None:
        known = ", ".join(s.key for s in list_schools(session))
        raise click.ClickException(f"There is no school '{key_or_id}'. Schools: {known}.")
    return found


def _audit(engine: Any, school: School, action: str, changed: list[str]) -> None:
    """In the school's own audit trail: who changed it and which settings (not their values)."""
    from bot.storage import repository as repo
    from bot.storage.scoping import SchoolSession

    with SchoolSession(engine, school_id=school.id) as session:
        by = f"cli:{getpass.getuser()}"
        repo.audit(session, datetime.now(UTC), by, action, f"school:{school.key}", changed=changed)
        session.commit()


_CALENDAR = click.Path(exists=True, dir_okay=False, path_type=Path)


@schools.command("add")
@click.argument("key")
@click.option("--pack", required=True, help="A bundled pack's name or a TOML file's path.")
@click.option("--name", default=None, help="The school's name (default: the pack's).")
@click.option("--timezone", default=None, help="Default: the pack's (e.g. Europe/London).")
@click.option("--calendar", type=_CALENDAR, default=None, help="A TOML file with [calendar].")
def schools_add(
    key: str, pack: str, name: str | None, timezone: str | None, calendar: Path | None
) -> None:
    """Register a school with the short KEY (e.g. kings-school) used in commands and logs."""
    from bot.storage.schools import add_school, find_school
    from bot.storage.scoping import SchoolSession

    try:
        check_key(key)
    except ValueError as exc:
        raise click.ClickException(f"{exc}. Nothing was saved.") from None
    school = School(
        0,
        key,
        name.strip() if name else None,
        _pack_or_stop(pack),
        _timezone_or_stop(timezone) if timezone else None,
        _calendar_or_stop(calendar) if calendar else None,
    )
    _rules_or_stop(school, pack)
    engine = _engine()
    with SchoolSession(engine, school_id=FIRST_SCHOOL) as session:
        if find_school(session, key) is not None:
            raise click.ClickException(f"There is already a school '{key}'. Nothing was saved.")
        added = add_school(session, school, datetime.now(UTC))
        session.commit()
    _audit(engine, added, "school.added", ["pack", "name", "timezone", "calendar"])
    click.echo(f"Added school {school_line(added, _settings().policy_pack)}.")
    click.echo(f"Give it its people with `schoolbot roles add --school {added.key} USER_ID ROLE`.")


@schools.command("list")
def schools_list() -> None:
    """Every school, with its number, key, name and pack. Trust-wide, but it reads only
    the trust's list of schools, none of their records (so no trust scope is needed)."""
    from bot.storage.schools import list_schools
    from bot.storage.scoping import SchoolSession

    install_pack = _settings().policy_pack
    with SchoolSession(_engine(), school_id=FIRST_SCHOOL) as session:
        for school in list_schools(session):
            click.echo(school_line(school, install_pack))


@schools.command("show")
@click.argument("school")
def schools_show(school: str) -> None:
    """One school's settings, and the rules it runs on (SCHOOL is its key or number)."""
    from bot.storage.scoping import SchoolSession

    install_pack = _settings().policy_pack
    with SchoolSession(_engine(), school_id=FIRST_SCHOOL) as session:
        found = _find_or_stop(session, school)
    rules = _rules_or_stop(found, install_pack)
    calendar = rules.calendar
    click.echo(f"School {found.id}: {found.name or rules.school.name} ({found.key})")
    click.echo(f"Pack: {found.pack or f'{install_pack} (SCHOOLBOT_POLICY)'}")
    click.echo(f"Timezone: {calendar.timezone}{'' if found.timezone else ' (the pack’s)'}")
    days = ", ".join(calendar.working_days)
    click.echo(f"Working days: {days}, {calendar.day_starts:%H:%M} to {calendar.day_ends:%H:%M}")
    click.echo(
        f"Closures: {len(calendar.closures)}{'' if found.calendar else ' (the pack’s calendar)'}"
    )


@schools.command("edit")
@click.argument("school")
@click.option("--pack", default=None, help="A bundled pack's name or a TOML file's path.")
@click.option("--name", default=None, help="The school's name.")
@click.option("--timezone", default=None, help="e.g. Europe/London.")
@click.option("--calendar", type=_CALENDAR, default=None, help="A TOML file with [calendar].")
@click.option("--pack-calendar", is_flag=True, help="Go back to the pack's own calendar.")
def schools_edit(
    *,
    school: str,
    pack: str | None,
    name: str | None,
    timezone: str | None,
    calendar: Path | None,
    pack_calendar: bool,
) -> None:
    """Change a school's pack, name, timezone or calendar (SCHOOL is its key or number)."""
    from bot.storage.schools import save_school
    from bot.storage.scoping import SchoolSession

    if calendar and pack_calendar:
        raise click.ClickException("Give --calendar or --pack-calendar, not both.")
    changes: dict[str, Any] = {}
    if pack is not None:
        changes["pack"] = _pack_or_stop(pack)
    if name is not None:
        changes["name"] = name.strip() or None
    if timezone is not None:
        changes["timezone"] = _timezone_or_stop(timezone)
    if calendar is not None:
        changes["calendar"] = _calendar_or_stop(calendar)
    if pack_calendar:
        changes["calendar"] = None
    if not changes:
        raise click.ClickException(
            "Nothing to change: give --pack, --name, --timezone or --calendar."
        )
    install_pack = _settings().policy_pack
    engine = _engine()
    with SchoolSession(engine, school_id=FIRST_SCHOOL) as session:
        edited = replace(_find_or_stop(session, school), **changes)
        _rules_or_stop(edited, install_pack)
        save_school(session, edited)
        session.commit()
    _audit(engine, edited, "school.edited", sorted(changes))
    click.echo(f"Saved: {school_line(edited, install_pack)}.")
    if edited.id == 1 or "pack" in changes:
        click.echo("Restart schoolbot for the running bot to use it.")
