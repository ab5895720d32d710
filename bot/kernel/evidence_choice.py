"""Which evidence store this install uses: EVIDENCE_STORE, or else the database with
PostgreSQL and a folder with SQLite.

PostgreSQL is how a school runs more than one instance; a folder on one instance's disk
is unseen by the others, so their workspaces and bundles would call its files missing.
Start-up refuses that unless EVIDENCE_FOLDER_SHARED says every instance mounts the same
folder.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.config import Settings
from bot.kernel.evidence_database import DatabaseEvidenceStore
from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.kernel.evidence_keys import EvidenceKeys
from bot.kernel.evidence_store import EvidenceStore

MOVE = "schoolbot records move-evidence-to-database"


class EvidenceStoreProblem(ValueError):
    """The chosen store can't serve this install; the message says how to fix it."""


def chosen_kind(settings: Settings) -> str:
    if settings.evidence_store:
        return settings.evidence_store
    return "database" if _on_postgresql(settings) else "folder"


def choose_evidence_store(
    settings: Settings, engine: sa.Engine, keys: EvidenceKeys | None
) -> EvidenceStore:
    """The install's one store for these settings; EvidenceStoreProblem for a folder only
    one of several PostgreSQL instances could read. The store is trust-wide, like the
    folder: bytes named by their SHA-256, reached only through a school's evidence row."""
    if chosen_kind(settings) == "database":
        return DatabaseEvidenceStore(engine, keys)
    if _on_postgresql(settings) and not settings.evidence_folder_shared:
        raise EvidenceStoreProblem(
            "Evidence files would be kept in the local folder "
            f"{settings.evidence_dir}, but the database is PostgreSQL, where other instances "
            "may run and could not read that folder. Either keep evidence in the database "
            "(remove EVIDENCE_STORE=folder from .env; move files already in the folder with "
            f"`{MOVE}`), or, if every instance mounts this same folder, set "
            "EVIDENCE_FOLDER_SHARED=true."
        )
    return FolderEvidenceStore(settings.evidence_dir, keys)


def _on_postgresql(settings: Settings) -> bool:
    return settings.resolved_database_url.startswith("postgresql")
