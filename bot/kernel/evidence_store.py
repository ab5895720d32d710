"""Where evidence bytes are kept: the contract every store keeps, whichever it is.

Two stores keep it (chosen in bot/kernel/evidence_choice.py): a folder on this machine
(bot/kernel/evidence_folder.py, the default with SQLite) and the database itself
(bot/kernel/evidence_database.py, the default with PostgreSQL, so every instance serves
every file and a database backup holds them). Both keep a file once, named by the SHA-256
of its original bytes, encrypted at rest with EVIDENCE_KEYS when it is set
(bot/kernel/evidence_keys.py); both are checked by the same tests (tests/kernel).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from bot.kernel.evidence_keys import HEADER_BYTES, EvidenceKeys, EvidenceLocked, is_encrypted

INTACT, MISSING, CHANGED, LOCKED = "intact", "missing", "changed", "locked"


class EvidenceMissing(FileNotFoundError):
    """No bytes are kept under this SHA-256 (never stored, or deleted)."""


class EvidenceStore(Protocol):
    """What the records, the workspace and the platforms need of a store."""

    keys: EvidenceKeys | None
    kind: str  # "folder" or "database", as EVIDENCE_STORE names it

    def where(self) -> str:
        """Where the bytes are, for people: "the folder /srv/..." or "the database"."""
        ...

    def put(self, sha256: str, data: bytes, at: datetime | None = None) -> object:
        """Keep these bytes (encrypted when there is a key); `at` marks them stored now."""
        ...

    def read(self, sha256: str) -> bytes:
        """The original bytes. EvidenceMissing (a FileNotFoundError) if gone; EvidenceLocked
        if no key this server has opens them (the message says why, never what)."""
        ...

    def check(self, sha256: str) -> str:
        """INTACT, MISSING, CHANGED (no longer its fingerprint) or LOCKED (no key opens it)."""
        ...

    def stored_at(self, sha256: str) -> float | None:
        """When these bytes were last stored (a POSIX time), or None if they are not here."""
        ...

    def remove(self, sha256: str, *, stored_before: datetime | None = None) -> bool:
        """Delete these bytes, leaving no copy in the store; True if there were any. With
        `stored_before`, only if they were last stored before then: bytes someone stored
        again meanwhile (the same file in a new report, on another instance) stay."""
        ...

    def names(self) -> Iterator[str]:
        """The SHA-256 of every file kept here."""
        ...

    def key_of(self, sha256: str) -> str | None:
        """The hex id of the key the bytes are encrypted with; None when they are plain."""
        ...

    def encrypt_one(self, sha256: str) -> bool:
        """Encrypt plain bytes, or re-encrypt those made with an older key, in one step.
        True if they were rewritten. EvidenceLocked for bytes no key opens; ValueError for
        plain bytes that are not their name."""
        ...


def sealed(keys: EvidenceKeys | None, sha256: str, data: bytes) -> bytes:
    """The bytes as they are kept: encrypted with the first key, or as they came."""
    return keys.encrypt(sha256, data) if keys else data


def opened(keys: EvidenceKeys | None, sha256: str, blob: bytes) -> bytes:
    """The original bytes of a kept blob (plain blobs from before EVIDENCE_KEYS as they are)."""
    if not is_encrypted(blob[:HEADER_BYTES]):
        return blob
    if keys is None:
        raise EvidenceLocked("the file is encrypted and EVIDENCE_KEYS is not set")
    return keys.decrypt(sha256, blob)


def state_of(store: EvidenceStore, sha256: str) -> str:
    """The check every store makes: read the bytes back and hash them again."""
    try:
        data = store.read(sha256)
    except FileNotFoundError:
        return MISSING
    except EvidenceLocked as problem:
        return CHANGED if "changed" in str(problem) else LOCKED
    return INTACT if hashlib.sha256(data).hexdigest() == sha256 else CHANGED


def resealed(keys: EvidenceKeys | None, sha256: str, blob: bytes, used: str | None) -> bytes | None:
    """`blob` encrypted with the first key, or None when it already is. Checks the bytes are
    still their name first, so a changed file is never sealed as if it were the original."""
    if keys is None:
        raise EvidenceLocked("EVIDENCE_KEYS is not set")
    if used == keys.current_id:
        return None
    data = opened(keys, sha256, blob)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("the file no longer matches its fingerprint")
    return keys.encrypt(sha256, data)
