"""Deleting evidence files nothing uses any more, and never one something still uses.

A file is used while a case lists it, a case's saved answers name it, or an unfinished
conversation holds it (storage.repository.evidence_in_use). A file stored in the last
hour is left too: a conversation may be saving its reference at this moment.

The hourly pass finds files no record uses (from a cancelled report, or a conversation
the retention sweep disposed of) and deletes them, one line each in the disposal log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import select

from bot.storage import repository as repo
from bot.storage.tables import Disposal, Evidence

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

log = logging.getLogger(__name__)
FRESH = timedelta(hours=1)
UNUSED_RULE = "evidence"
UNUSED_WORDS = (
    "Evidence files: deleted once no case or unfinished conversation uses them "
    "(a cancelled or abandoned report's)"
)
BY = "evidence sweep"
TRUST_REASON = "which stored evidence files no school's record uses"


def delete_unused(kernel: Kernel, hashes: Iterable[str], now: datetime) -> list[str]:
    """Delete each of these files that nothing uses and that wasn't stored just now;
    returns the ones deleted."""
    hashes = list(dict.fromkeys(hashes))
    if not hashes:
        return []
    # The store keeps one file per SHA-256 for every school: in use by any school is in use.
    with kernel.work.trust_session(BY, TRUST_REASON, now) as session:
        in_use = {sha for sha in hashes if repo.evidence_in_use(session, sha)}
        session.commit()
    deleted = []
    for sha in hashes:
        if sha in in_use:
            continue
        # Only if not stored again since `now - FRESH` (another upload of the same bytes).
        if kernel.evidence.remove(sha, stored_before=now - FRESH):
            deleted.append(sha)
    return deleted


def sweep_unused(kernel: Kernel) -> int:
    """Delete every stored file nothing uses (older than an hour), each logged."""
    now = kernel.now()
    with kernel.work.trust_session(BY, TRUST_REASON, now) as session:
        listed = set(session.exec(select(Evidence.sha256)).all())  # every school's
        session.commit()
    candidates = [sha for sha in kernel.evidence.names() if sha not in listed]
    deleted = delete_unused(kernel, candidates, now)
    if not deleted:
        return 0
    today = kernel.local_now().date()
    with kernel.session() as session:
        for sha in deleted:
            session.add(
                Disposal(
                    at=now,
                    record_type="evidence file",
                    record=f"file {sha[:16]}",  # its fingerprint, never its name
                    rule=UNUSED_RULE,
                    rule_words=UNUSED_WORDS[:200],
                    due_on=today,
                    by=BY,
                    files_deleted=1,
                    audit_rows_redacted=0,
                )
            )
        session.commit()
    log.info("evidence sweep: deleted %s file(s) no record uses", len(deleted))
    return len(deleted)
