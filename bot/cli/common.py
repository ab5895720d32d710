"""What every `schoolbot` command shares: the settings, and the service they open."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from bot.config import Settings
from bot.domain.policy import PolicyError
from bot.kernel.evidence_choice import EvidenceStoreProblem
from bot.kernel.evidence_keys import KeyProblem

if TYPE_CHECKING:
    from bot.dispatch import BotService, Trust

Served = TypeVar("Served")


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


def _service(settings: Settings) -> BotService:
    from bot.runtime import build_service

    return _started(lambda: build_service(settings), settings)


def _trust(settings: Settings) -> Trust:
    """Every school's service, as `schoolbot run` serves them."""
    from bot.runtime import build_trust

    return _started(lambda: build_trust(settings), settings)


def _started(build: Callable[[], Served], settings: Settings) -> Served:
    existed = _database_exists(settings)
    try:
        served = build()
        _say_if_new_database(settings, existed=existed)
        return served
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


def open_service() -> BotService:
    """The service for the settings in the environment (most commands need nothing more)."""
    return _service(_settings())
