"""Composition root: settings -> pack, database, evidence store -> BotService."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from bot.app import active_platforms
from bot.config import Settings
from bot.dispatch import BotService
from bot.domain.policy import load_pack
from bot.kernel.evidence_keys import EvidenceKeys
from bot.kernel.evidence_store import EvidenceStore
from bot.observability import logs
from bot.platforms import PLATFORM_TITLES
from bot.storage import db


def build_service(settings: Settings, *, migrate: bool = True) -> BotService:
    pack = load_pack(settings.policy_pack)
    url = settings.resolved_database_url
    if migrate:
        db.upgrade(settings.migration_url, app_url=url)
    engine = db.make_engine(url)
    logs.set_school(pack.school.name)
    service = BotService(
        engine=engine,
        pack=pack,
        evidence=EvidenceStore(settings.evidence_dir, evidence_keys(settings)),
        max_evidence_bytes=settings.max_evidence_bytes,
        platform_titles=PLATFORM_TITLES,
    )
    service.outbox.lease = timedelta(seconds=settings.outbox_lease_seconds)
    service.intake.lease = timedelta(seconds=settings.accepted_lease_seconds)
    service.outbox.platforms = configured_platforms(settings)
    service.outbox.emails = settings.smtp_host is not None
    if settings.public_url:
        from bot.web.access import WebAccess

        service.outbox.web = WebAccess(service.kernel, settings.public_url)
    return service


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
