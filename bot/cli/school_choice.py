"""Which school a `schoolbot` command works on: `--school KEY_OR_ID`, or SCHOOLBOT_SCHOOL.

Every command that reads or changes a school's records carries the one option below and
opens that school's service (its own pack, calendar and sessions), so it sees and writes
that school's records only, and its audit entries are that school's. With one school the
option may be left out, as before; with several, leaving it out is an error that lists
them, because guessing a school for a safeguarding record is never safe. An unknown
school stops the command before anything is opened or written (exit code 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from bot.domain.policy import PolicyError
from bot.domain.schools import School

F = TypeVar("F", bound=Callable[..., Any])

SCHOOL_ENV = "SCHOOLBOT_SCHOOL"
CHOSEN_SCHOOL = "schoolbot.school"  # in click's context: the --school given (None: not given)
ALL_SCHOOLS = "schoolbot.all_schools"
SCHOOL_FLAG = "schoolbot.school_flag"
SCHOOL_HELP = (
    "The school (its key or number, see `schoolbot schools list`); default: the only "
    f"school. Also read from {SCHOOL_ENV}."
)


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def remember(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        ctx.meta[key] = value.strip() if isinstance(value, str) else value

    return remember


def school_option(fn: F) -> F:
    """`--school KEY_OR_ID` for a command that works on one school's records; the command
    then calls `open_service()` (bot/cli/common.py) for that school's service."""
    return click.option(
        "--school",
        metavar="KEY_OR_ID",
        envvar=SCHOOL_ENV,
        default=None,
        expose_value=False,
        callback=_remember(CHOSEN_SCHOOL),
        help=SCHOOL_HELP,
    )(fn)


def every_school_option(fn: F) -> F:
    """`--school`, or `--all-schools` for a job each school runs on its own rules in turn
    (the command calls `each_chosen_service()`)."""
    fn = click.option(
        "--all-schools",
        is_flag=True,
        expose_value=False,
        callback=_remember(ALL_SCHOOLS),
        help="Every school in turn, each on its own rules (instead of --school).",
    )(fn)
    return school_option(fn)


def school_line(school: School, install_pack: str) -> str:
    """One school as `schoolbot schools list` prints it: number, key, name and pack."""
    from bot.domain.policy import load_pack

    name = school.name
    if not name:
        try:
            name = load_pack(school.pack or install_pack).school.name
        except PolicyError:
            name = "(its pack can't be read: see schoolbot schools show)"
    return f"{school.id}  {school.key}  {name}  (pack: {school.pack or 'SCHOOLBOT_POLICY'})"


def _listing(schools: list[School], install_pack: str) -> str:
    return "\n".join(f"  {school_line(s, install_pack)}" for s in schools)


def choose_school(schools: list[School], install_pack: str) -> School:
    """The school of `schools` (the trust's list) this command was given, or the only one;
    a usage error (exit code 2, nothing opened) for a school that doesn't exist or a
    choice that wasn't made."""
    ctx = click.get_current_context()
    if (
        CHOSEN_SCHOOL not in ctx.meta
    ):  # a developer's slip, caught by tests/cli/test_school_option.py
        raise RuntimeError(f"`{ctx.command_path}` opens a school's records without --school")
    given: str | None = ctx.meta[CHOSEN_SCHOOL] or None
    if given is None:
        if len(schools) == 1:
            return schools[0]
        raise click.UsageError(
            f"This install serves {len(schools)} schools, so say which one this is for: "
            f"add --school KEY_OR_ID (or set {SCHOOL_ENV}). Nothing was changed. Schools:\n"
            + _listing(schools, install_pack),
            ctx,
        )
    found = [s for s in schools if given in (s.key, str(s.id))]
    if not found:
        where = (
            f"{SCHOOL_ENV} is '{given}', but there"
            if ctx.get_parameter_source("school") is ParameterSource.ENVIRONMENT
            else "There"
        )
        raise click.BadParameter(
            f"{where} is no school '{given}', so nothing was changed. Schools:\n"
            + _listing(schools, install_pack),
            ctx,
            param_hint="'--school'",
        )
    return found[0]
