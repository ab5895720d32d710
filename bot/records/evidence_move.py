"""Moving evidence files from the folder into the database (`schoolbot records
move-evidence-to-database`), for an install that runs on PostgreSQL and kept files on one
instance's disk before the database store existed.

Each file is copied as it is kept (still encrypted, with the same key), read back from the
database and compared byte for byte, and only then deleted from the folder, so an
interrupted run loses nothing and a second run finishes the job. A file that no longer
matches its fingerprint is left where it is, for the IT lead to look at. One line in the
audit trail says who moved how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.kernel.evidence_database import DatabaseEvidenceStore
from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.kernel.evidence_store import CHANGED, MISSING
from bot.storage import repository as repo

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

MOVED_EVENT = "evidence.moved_to_database"
SUBJECT = "evidence store"
TRUST_REASON = "moving every school's evidence files into the database"


@dataclass
class Moved:
    moved: int = 0
    already: int = 0  # the database had these bytes already; the folder copy is gone now
    left: list[str] = field(default_factory=list)  # fingerprints left in the folder, and why


def move_to_database(
    kernel: Kernel,
    folder: FolderEvidenceStore,
    database: DatabaseEvidenceStore,
    actor: str,
    *,
    keep_files: bool = False,
) -> Moved:
    """Every file in `folder` into `database`; deleted from the folder once the database
    holds the same bytes (unless `keep_files`)."""
    done = Moved()
    for sha in folder.names():
        state = folder.check(sha)
        if state in (CHANGED, MISSING):
            done.left.append(f"file {sha[:16]}: it no longer matches its fingerprint")
            continue
        blob = folder.raw(sha)
        stamp = folder.stored_at(sha)
        at = datetime.fromtimestamp(stamp, UTC) if stamp is not None else kernel.now()
        added = database.put_sealed(sha, blob, at)
        if added and database.raw(sha) != blob:
            database.remove(sha)
            done.left.append(f"file {sha[:16]}: the database did not give the same bytes back")
            continue
        if not added and database.check(sha) in (CHANGED, MISSING):
            done.left.append(f"file {sha[:16]}: the database's copy does not match; kept both")
            continue
        if not keep_files:
            folder.remove(sha)
        done.moved += added
        done.already += not added
    now = kernel.now()  # the store is every school's: recorded under the trust scope
    with kernel.work.trust_session(actor, TRUST_REASON, now) as session:
        repo.audit(
            session,
            now,
            actor,
            MOVED_EVENT,
            SUBJECT,
            moved=done.moved,
            already=done.already,
            left=len(done.left),
            folder_kept=keep_files,
        )
        session.commit()
    return done
