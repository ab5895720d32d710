"""Composition root: settings -> pack, database, evidence store -> BotService."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.domain.policy import load_pack
from bot.services import BotService
from bot.services.evidence_store import EvidenceStore
from bot.storage import db


def build_service(settings: Settings, migrate: bool = True) -> BotService:
    pack = load_pack(settings.policy_pack)
    url = settings.resolved_database_url
    if migrate:
        db.upgrade(url)
    engine = db.make_engine(url)
    return BotService(
        engine=engine,
        pack=pack,
        evidence=EvidenceStore(settings.evidence_dir),
        max_evidence_bytes=settings.max_evidence_bytes,
    )


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic logs every migration at INFO; keep start-up output short.
    logging.getLogger("alembic").setLevel(logging.WARNING)
