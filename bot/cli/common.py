"""What every `schoolbot` command shares: the settings, and the school's service they open
(bot/cli/school_choice.py says which school)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from bot.cli.school_choice import ALL_SCHOOLS, CHOSEN_SCHOOL, SCHOOL_FLAG, choose_school
from bot.config import Settings
from bot.domain.policy import PolicyError
from bot.domain.schools import FIRST_SCHOOL, School
from bot.kernel.evidence_choice import EvidenceStoreProblem
from bot.kernel.evidence_keys import KeyProblem

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.dispatch import BotService, Trust
    from bot.kernel.work import UnitOfWork


def _settings() -> Settings:
    return Settings()


def _say_if_new_database(settings: Settings, *, existed: bool) -> None:
    """One line when SQLite starts afresh, so a command run with the wrong home is noticed."""
    path = settings.database_path
    if path is not None and not existed:
        if settings.log_format == "json":  # `run` logs as JSON: no plain lines among them
            logging.getLogger("bot.cli").info("Created a new, empty database at %s.", path)
        else:
            click.echo(f"Created a new, empty database at {path}.", err=True)


def _database_exists(settings: Settings) -> bool:
    path = settings.database_path
    return path is None or (path.exists() and path.stat().st_size > 0)


@contextlib.contextmanager
def _explained() -> Iterator[None]:
    """Why the database or the pack can't be used, in words an IT lead can act on."""
    try:
        yield
    except click.ClickException:
        raise
    except PolicyError as exc:
        raise click.ClickException(
            "The policy pack can't be used:\n" + "\n".join(f"  {p}" for p in exc.problems)
        ) from exc
    except (KeyProblem, EvidenceStoreProblem) as exc:  # never a key's value; says the fix
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # the database is the usual culprit; say so plainly
        if "OperationalError" in type(exc).__name__ or "connect" in str(exc).lower():
            raise click.ClickException(
                "I can't open the database. Check DATABASE_URL (or that the data directory "
                f"is writable): {type(exc).__name__}"
            ) from exc
        raise


def _migrated_engine(settings: Settings) -> Engine:
    """The database brought up to date (as `run` does), and an engine on it."""
    from bot.storage import db

    existed = _database_exists(settings)
    with _explained():
        db.upgrade(settings.migration_url, app_url=settings.resolved_database_url)
        engine = db.make_engine(settings.resolved_database_url)
    _say_if_new_database(settings, existed=existed)
    return engine


@contextlib.contextmanager
def opened(settings: Settings) -> Iterator[Engine]:
    """_migrated_engine, for a moment."""
    engine = _migrated_engine(settings)
    try:
        with _explained():
            yield engine
    finally:
        engine.dispose()


def _all_schools(engine: Engine) -> list[School]:
    """The trust's list of schools (the `school` table is the trust's: no school's records)."""
    from bot.storage.schools import list_schools
    from bot.storage.scoping import SchoolSession

    with SchoolSession(engine, school_id=FIRST_SCHOOL) as session:
        return list_schools(session)


def _service(
    settings: Settings, *, school_id: int = FIRST_SCHOOL, migrate: bool = True
) -> BotService:
    """One school's service (school 1's unless told): its pack, calendar and sessions."""
    from bot.runtime import build_service

    existed = _database_exists(settings)
    with _explained():
        service = build_service(settings, migrate=migrate, school_id=school_id)
    _say_if_new_database(settings, existed=existed)
    return service


def _trust(settings: Settings) -> Trust:
    """Every school's service, as `schoolbot run` serves them."""
    from bot.runtime import build_trust

    existed = _database_exists(settings)
    with _explained():
        trust = build_trust(settings)
    _say_if_new_database(settings, existed=existed)
    return trust


def open_service() -> BotService:
    """The service of the school this command was given with `--school` (school_option),
    or of the only school: the command then sees and writes that school's records only."""
    settings = _settings()
    with opened(settings) as engine:
        schools = _all_schools(engine)
    school = choose_school(schools, settings.policy_pack)
    if len(schools) > 1:  # for the commands a command suggests (see school_flag)
        click.get_current_context().meta[SCHOOL_FLAG] = f" --school {school.key}"
    return _service(settings, school_id=school.id, migrate=False)


def school_flag() -> str:
    """ " --school KEY" when the trust has several schools, to put in a command this
    command suggests (so it can be pasted as it is); "" for a trust of one."""
    return str(click.get_current_context().meta.get(SCHOOL_FLAG, ""))


def each_chosen_service() -> Iterator[BotService]:
    """With `--all-schools` (every_school_option) each school's service in turn, each on
    its own rules; otherwise the one school's, as open_service gives it."""
    if not click.get_current_context().meta.get(ALL_SCHOOLS):
        yield open_service()
        return
    if click.get_current_context().meta.get(CHOSEN_SCHOOL):
        raise click.UsageError("Give --school or --all-schools, not both.")
    settings = _settings()
    with opened(settings) as engine:
        schools = _all_schools(engine)
    for school in schools:
        yield _service(settings, school_id=school.id, migrate=False)


def trust_work() -> UnitOfWork:
    """For trust-wide commands (no --school): a unit of work whose `trust_session` sees
    every school, each use written to the audit trail."""
    from bot.kernel.work import UnitOfWork

    return UnitOfWork(_migrated_engine(_settings()), FIRST_SCHOOL)
