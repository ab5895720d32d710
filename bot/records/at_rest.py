"""What `schoolbot run` says at start about records at rest: where evidence files are kept,
whether they are encrypted (and with which key, by its id), files still to migrate, files
no key opens, and `.env` or the data folder readable by other users on the machine. One
line each; none of them stops the bot.
"""

from __future__ import annotations

import stat
from pathlib import Path

from bot.config import Settings
from bot.kernel.evidence_choice import MOVE
from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.kernel.evidence_store import EvidenceStore

MIGRATE = "schoolbot records encrypt-evidence"


def loose_permission_lines(settings: Settings) -> list[str]:
    """`.env` (tokens and keys) or the data folder (records) that the group or other users
    can read. Asked before the bot starts: it makes a new data folder private itself."""
    lines = []
    env = settings.env_file
    if _loose(env):
        lines.append(
            f"Warning: {env} can be read by other users on this machine "
            f"({_mode(env)}). It holds the bot's tokens and keys: run  chmod 600 {env}"
        )
    data = settings.data_dir
    shown = [p for p in [data, *_children(data)] if _loose(p)]
    if shown:
        first = shown[0]
        more = f" and {len(shown) - 1} more in it" if len(shown) > 1 else ""
        what = f"the data folder {data}" if first == data else f"{first} in the data folder"
        lines.append(
            f"Warning: {what}{more} can be read by other users on this machine "
            f"({_mode(first)}). It holds safeguarding records: run  chmod -R go-rwx {data}"
        )
    return lines


def evidence_line(store: EvidenceStore) -> str:
    """One line: encrypted or not, and what is left to do."""
    plain = foreign = 0
    ids = store.keys.ids if store.keys else set()
    for sha in store.names():
        try:
            used = store.key_of(sha)
        except OSError:
            continue
        if used is None:
            plain += 1
        elif used not in ids:
            foreign += 1
    if store.keys is None:
        line = "Evidence files: not encrypted at rest (set EVIDENCE_KEYS in .env; see README)."
        if foreign:
            line = (
                f"Warning: {foreign} evidence file(s) are encrypted but EVIDENCE_KEYS is not set: "
                "they can't be opened until it is."
            )
        return line
    line = f"Evidence files: encrypted at rest (key {store.keys.current_id})."
    if plain:
        line += f" {plain} older file(s) are not yet: run  {MIGRATE}"
    if foreign:
        line = (
            f"Warning: {foreign} evidence file(s) use a key that is not in EVIDENCE_KEYS; "
            "they can't be opened until it is added back. " + line
        )
    return line


def where_lines(store: EvidenceStore, settings: Settings) -> list[str]:
    """Where evidence is kept, and files left behind in the folder once it is the database."""
    lines = [f"Evidence files: kept in {store.where()}."]
    if store.kind == "database":
        try:
            left = sum(1 for _ in FolderEvidenceStore(settings.evidence_dir).names())
        except OSError:  # a folder this user can't read: nothing it could move either
            left = 0
        if left:
            lines.append(
                f"Warning: {left} evidence file(s) are still in the folder "
                f"{settings.evidence_dir}, which this server no longer reads: run  {MOVE}"
            )
    return lines


def _loose(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False


def _mode(path: Path) -> str:
    return stat.filemode(path.stat().st_mode)


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []
