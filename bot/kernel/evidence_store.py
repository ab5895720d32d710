"""Evidence bytes on disk, named by their SHA-256 so the same file is kept once.

Folders are 0700 and files 0600: screenshots of abuse are for the owning team only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bot.config import make_private_dir


class EvidenceStore:
    def __init__(self, root: Path):
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> Path:
        target = self.path_for(sha256)
        if target.exists():
            return target
        make_private_dir(self.root)
        target.parent.mkdir(exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def remove(self, sha256: str) -> bool:
        """Delete a file's bytes (one the bot may not keep); True if there was one."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True
