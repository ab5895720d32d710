"""A local append-only file of acknowledged requests, until the database has them.

The ack must not wait for the database (a commit waits behind conversation turns and
costs far more than Slack's latency budget allows under load), yet a request Slack was
answered for must survive `kill -9` in the milliseconds before its database record is
written. A write to a local file survives the process being killed (the operating
system keeps it), costs microseconds, and happens on the event loop before the ack.

Each request is a line `{"+": token, "row": ...}`; once its database record is committed
(or, if the database was down, once its work is done) a line `{"=": token}` settles it.
At the next start, lines never settled are given back to the journal, which writes the
ones the database doesn't already have. The file is emptied whenever nothing in it is
open, and rewritten with just the open requests when it grows or when a request settled
a minute ago is still in it, so what staff wrote is not kept there (a record disposed of
later has no copy left in a spool).
A power cut can still lose what the operating system had not yet written to disk.

A running process holds a lock on its file; another one sharing the data folder uses the
next free name, and a restart takes over whichever file a killed process left.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no locks; run one instance per data folder there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
COMPACT_BYTES = 1_000_000
SETTLED_SECONDS = 60.0  # how long a settled request's line may stay in the file
TIMES = ("accepted_at", "renewed_at")


class Spool:
    def __init__(
        self, folder: Path, name: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._settled_since: float | None = None  # the first settle the file still holds
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(100):
            self.path = folder / (f"{name}.spool" if n == 0 else f"{name}-{n}.spool")
            self._lock = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if fcntl is not None:
                    fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # a live process's
                os.close(self._lock)
        else:
            raise RuntimeError(f"no free request spool in {folder}")
        self._open: dict[str, bytes] = {}  # token -> its line, for requests not yet settled
        self._left = self._read()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._size = os.fstat(self._fd).st_size

    def left_over(self) -> list[tuple[str, dict[str, Any]]]:
        """(token, row) a stopped process acknowledged and never settled; they stay in
        the file until settled here."""
        return list(self._left.items())

    def add(self, token: str, row: dict[str, Any]) -> None:
        data = {k: v.isoformat() if k in TIMES else v for k, v in row.items()}
        line = json.dumps({"+": token, "row": data}, separators=(",", ":")).encode() + b"\n"
        self._open[token] = line
        self._write(line)

    def settle(self, token: str) -> None:
        self._left.pop(token, None)
        if self._open.pop(token, None) is None:
            return
        if not self._open:  # nothing open: what staff wrote needn't stay on disk
            os.ftruncate(self._fd, 0)
            self._size = 0
            self._settled_since = None
            return
        self._write(json.dumps({"=": token}).encode() + b"\n")
        now = self._clock()
        if self._settled_since is None:
            self._settled_since = now
        if self._size > COMPACT_BYTES or now - self._settled_since >= SETTLED_SECONDS:
            self._compact()

    def close(self) -> None:
        os.close(self._fd)
        os.close(self._lock)  # and with it the lock

    def _write(self, line: bytes) -> None:
        os.write(self._fd, line)
        self._size += len(line)

    def _compact(self) -> None:
        """Rewrite the file with just the open requests, replacing it in one step."""
        fresh = self.path.with_suffix(".new")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, b"".join(self._open.values()))
        os.close(fd)
        os.replace(fresh, self.path)
        self._settled_since = None
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND, 0o600)
        self._size = os.fstat(self._fd).st_size

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return {}
        added: dict[str, dict[str, Any]] = {}
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:  # a line cut short by the kill: it was never acknowledged
                continue
            if "+" in entry:
                row = entry["row"]
                added[entry["+"]] = {
                    k: datetime.fromisoformat(v) if k in TIMES else v for k, v in row.items()
                }
                self._open[entry["+"]] = line + b"\n"
            elif "=" in entry:
                added.pop(entry["="], None)
                self._open.pop(entry["="], None)
        if added:
            log.info("%d acknowledged requests found in %s", len(added), self.path.name)
        return added
