"""Evidence bytes in a folder on disk, named by the SHA-256 of the original bytes so a file
is kept once: the store for one machine (SQLite), or for several sharing one folder.

Folders are 0700 and files 0600: screenshots of abuse are for the owning team only. With
EVIDENCE_KEYS set, each file is encrypted at rest (bot/kernel/evidence_keys.py); files
written before that are read as they are until `schoolbot records encrypt-evidence` has
encrypted them. A file's modification time is when it was last stored: the sweeps never
delete a file stored moments ago, which a conversation may be about to save.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bot.config import make_private_dir
from bot.kernel.evidence_keys import HEADER_BYTES, EvidenceKeys, file_key_id
from bot.kernel.evidence_store import EvidenceMissing, opened, resealed, sealed, state_of


class FolderEvidenceStore:
    kind = "folder"

    def __init__(self, root: Path, keys: EvidenceKeys | None = None):
        self.root = root
        self.keys = keys

    def where(self) -> str:
        return f"the folder {self.root}"

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes, at: datetime | None = None) -> Path:
        """Keep these bytes (encrypted when there is a key); `at` marks them as stored now."""
        target = self.path_for(sha256)
        if not target.exists():
            self._write(target, sealed(self.keys, sha256, data))
        if at is not None:
            stamp = at.timestamp()
            try:
                os.utime(target, (stamp, stamp))
            except FileNotFoundError:  # deleted in between: store it again
                self._write(target, sealed(self.keys, sha256, data))
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

    def raw(self, sha256: str) -> bytes:
        """The bytes as kept (encrypted or not): what moving them elsewhere copies."""
        try:
            return self.path_for(sha256).read_bytes()
        except FileNotFoundError:
            raise EvidenceMissing(sha256[:16]) from None

    def read(self, sha256: str) -> bytes:
        return opened(self.keys, sha256, self.raw(sha256))

    def check(self, sha256: str) -> str:
        return state_of(self, sha256)

    def stored_at(self, sha256: str) -> float | None:
        try:
            return self.path_for(sha256).stat().st_mtime
        except FileNotFoundError:
            return None

    def remove(self, sha256: str, *, stored_before: datetime | None = None) -> bool:
        stored = self.stored_at(sha256)
        if stored_before is not None and (stored is None or stored >= stored_before.timestamp()):
            return False
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
        with self.path_for(sha256).open("rb") as handle:
            return file_key_id(handle.read(HEADER_BYTES))

    def encrypt_one(self, sha256: str) -> bool:
        """In place and atomically (safe to interrupt), keeping the file's stored time."""
        path = self.path_for(sha256)
        mtime = path.stat().st_mtime
        blob = resealed(self.keys, sha256, self.raw(sha256), self.key_of(sha256))
        if blob is None:
            return False
        self._write(path, blob, mtime)
        return True
