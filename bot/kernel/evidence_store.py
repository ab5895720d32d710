"""Evidence bytes on disk, named by the SHA-256 of the original bytes so a file is kept once.

Folders are 0700 and files 0600: screenshots of abuse are for the owning team only. With
EVIDENCE_KEYS set, each file is encrypted at rest (bot/kernel/evidence_keys.py); files
written before that are read as they are until `schoolbot records encrypt-evidence` has
encrypted them. A file's modification time is when it was last stored: the sweeps never
delete a file stored moments ago, which a conversation may be about to save.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bot.config import make_private_dir
from bot.kernel.evidence_keys import (
    HEADER_BYTES,
    EvidenceKeys,
    EvidenceLocked,
    file_key_id,
    is_encrypted,
)

INTACT, MISSING, CHANGED, LOCKED = "intact", "missing", "changed", "locked"


class EvidenceStore:
    def __init__(self, root: Path, keys: EvidenceKeys | None = None):
        self.root = root
        self.keys = keys

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes, at: datetime | None = None) -> Path:
        """Keep these bytes (encrypted when there is a key); `at` marks them as stored now."""
        target = self.path_for(sha256)
        if not target.exists():
            blob = self.keys.encrypt(sha256, data) if self.keys else data
            self._write(target, blob)
        if at is not None:
            stamp = at.timestamp()
            try:
                os.utime(target, (stamp, stamp))
            except FileNotFoundError:  # deleted in between: store it again
                self._write(target, self.keys.encrypt(sha256, data) if self.keys else data)
                os.utime(target, (stamp, stamp))
        return target

    def _write(self, target: Path, blob: bytes, mtime: float | None = None) -> None:
        """Atomically: a crash leaves the old file or the new one, never half of one."""
        make_private_dir(self.root)
        target.parent.mkdir(exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            if mtime is not None:
                os.utime(tmp, (mtime, mtime))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, sha256: str) -> bytes:
        """The original bytes. FileNotFoundError if gone; EvidenceLocked if they can't be
        decrypted with the keys this server has (the message says why, never what)."""
        blob = self.path_for(sha256).read_bytes()
        if not is_encrypted(blob[:HEADER_BYTES]):
            return blob
        if self.keys is None:
            raise EvidenceLocked("the file is encrypted and EVIDENCE_KEYS is not set")
        return self.keys.decrypt(sha256, blob)

    def check(self, sha256: str) -> str:
        """INTACT, MISSING, CHANGED (no longer its fingerprint) or LOCKED (no key opens it)."""
        try:
            data = self.read(sha256)
        except FileNotFoundError:
            return MISSING
        except EvidenceLocked as problem:
            return CHANGED if "changed" in str(problem) else LOCKED
        return INTACT if hashlib.sha256(data).hexdigest() == sha256 else CHANGED

    def stored_at(self, sha256: str) -> float | None:
        """When these bytes were last stored (a POSIX time), or None if they are not here."""
        try:
            return self.path_for(sha256).stat().st_mtime
        except FileNotFoundError:
            return None

    def remove(self, sha256: str) -> bool:
        """Delete a file's bytes; True if there was one."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> Iterator[str]:
        """The SHA-256 of every file kept here (never the half-written ones)."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and len(folder.name) == 2:
                for path in sorted(folder.iterdir()):
                    if len(path.name) == 64 and path.name.startswith(folder.name):
                        yield path.name

    def key_of(self, sha256: str) -> str | None:
        """The hex id of the key a file is encrypted with; None for a plain file."""
        with self.path_for(sha256).open("rb") as handle:
            return file_key_id(handle.read(HEADER_BYTES))

    def encrypt_one(self, sha256: str) -> bool:
        """Encrypt a plain file, or re-encrypt one made with an older key, in place and
        atomically (safe to interrupt). True if it was rewritten. Raises EvidenceLocked
        for a file no key opens, and ValueError for a plain file that is not its name."""
        if self.keys is None:
            raise EvidenceLocked("EVIDENCE_KEYS is not set")
        if self.key_of(sha256) == self.keys.current_id:
            return False
        path = self.path_for(sha256)
        mtime = path.stat().st_mtime
        data = self.read(sha256)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError("the file no longer matches its fingerprint")
        self._write(path, self.keys.encrypt(sha256, data), mtime)
        return True
