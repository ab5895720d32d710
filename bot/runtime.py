"""Composition root: settings -> pack, database, evidence store -> BotService."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import active_platforms
from bot.config import Settings
from bot.dispatch import BotService, Trust
from bot.domain.policy import PolicyError, PolicyPack, load_pack
from bot.domain.schools import FIRST_SCHOOL
from bot.kernel.evidence_choice import choose_evidence_store
from bot.kernel.evidence_keys import EvidenceKeys
from bot.kernel.evidence_store import EvidenceStore
from bot.observability import logs
from bot.platforms import PLATFORM_TITLES
from bot.storage import db
from bot.storage.schools import find_school, list_schools
from bot.storage.scoping import SchoolSession


def build_service(
    settings: Settings, *, migrate: bool = True, school_id: int = FIRST_SCHOOL
) -> BotService:
    """The service for one school: its pack and calendar as `schoolbot schools` set them
    (school 1's pack is SCHOOLBOT_POLICY until someone sets one)."""
    engine = _open_database(settings, migrate=migrate)
    evidence = choose_evidence_store(settings, engine, evidence_keys(settings))
    service = school_service(settings, engine, evidence, school_id)
    logs.set_school(service.kernel.pack.school.name)
    return service


def build_trust(settings: Settings, *, migrate: bool = True) -> Trust:
    """Every school in the `school` table, each with its own service, on one engine and
    one evidence store; a school added later is built when the trust next looks."""
    engine = _open_database(settings, migrate=migrate)
    evidence = choose_evidence_store(settings, engine, evidence_keys(settings))
    with Session(engine) as session:
        ids = [school.id for school in list_schools(session)] or [FIRST_SCHOOL]
    services = [school_service(settings, engine, evidence, school_id) for school_id in ids]
    if len(services) == 1:
        logs.set_school(services[0].kernel.pack.school.name)
    return Trust(
        services, build=lambda school_id: school_service(settings, engine, evidence, school_id)
    )


def _open_database(settings: Settings, *, migrate: bool) -> Engine:
    load_pack(settings.policy_pack)  # a broken setting stops the start, whichever school
    url = settings.resolved_database_url
    if migrate:
        db.upgrade(settings.migration_url, app_url=url)
    return db.make_engine(url)


def school_service(
    settings: Settings, engine: Engine, evidence: EvidenceStore, school: int
) -> BotService:
    """One school's service on the trust's engine and evidence store."""
    service = BotService(
        engine=engine,
        pack=school_rules(engine, school, settings.policy_pack),
        evidence=evidence,
        max_evidence_bytes=settings.max_evidence_bytes,
        platform_titles=PLATFORM_TITLES,
        school_id=school,
    )
    service.outbox.lease = timedelta(seconds=settings.outbox_lease_seconds)
    service.intake.lease = timedelta(seconds=settings.accepted_lease_seconds)
    service.daily_jobs.lease = timedelta(seconds=settings.daily_lease_seconds)
    service.outbox.platforms = configured_platforms(settings)
    service.outbox.emails = settings.smtp_host is not None
    if settings.public_url:
        from bot.web.access import WebAccess

        service.outbox.web = WebAccess(service.kernel, settings.public_url)
    return service


def school_rules(engine: Engine, school: int, install_pack: str) -> PolicyPack:
    """The school's pack with its own name, timezone and calendar over the pack's."""
    with SchoolSession(engine, school_id=school) as session:
        found = find_school(session, str(school))
    if found is None:
        raise PolicyError(f"school {school}", ["there is no such school (schoolbot schools list)"])
    pack = found.rules(install_pack)
    if found.name:
        pack = pack.model_copy(
            update={"school": pack.school.model_copy(update={"name": found.name})}
        )
    return pack


def evidence_keys(settings: Settings) -> EvidenceKeys | None:
    """The keys evidence is encrypted with; None when EVIDENCE_KEYS is unset. Raises
    KeyProblem (a one-line message, never the key) when it is set but unusable."""
    if settings.evidence_keys is None:
        return None
    return EvidenceKeys.parse(settings.evidence_keys.get_secret_value())


def configured_platforms(settings: Settings) -> tuple[str, ...]:
    """Where team alerts that belong to no chat (webhook, CLI, scheduler) are posted."""
    return tuple(platform.name for platform, _ in active_platforms(settings))


def configure_logging(level: str, log_format: str = "text", to: Path | None = None) -> None:
    """Log to stderr (or the file `to`) as text lines or, with SCHOOLBOT_LOG_FORMAT=json,
    one JSON object a line (bot/observability/logs.py)."""
    logging.basicConfig(level=level.upper(), handlers=[logs.handler(log_format, to)])
    if log_format == "json":
        logging.captureWarnings(True)  # Python's warnings as JSON lines too, not bare text
    # Alembic logs every migration at INFO; keep start-up output short.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Slack's SDKs log whole requests and answers at DEBUG, tokens from oauth.v2.access
    # included: never below INFO, whatever SCHOOLBOT_LOG_LEVEL says.
    floor = max(logging.getLevelNamesMapping().get(level.upper(), logging.INFO), logging.INFO)
    for name in ("slack_sdk", "slack_bolt"):
        logging.getLogger(name).setLevel(floor)
