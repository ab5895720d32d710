"""Units of work in one process take turns on SQLite, and the request journal goes first.

SQLite has one writer at a time, and a writer that finds it busy sleeps and polls (1, 2,
5 ... 100 ms). Queueing on a lock in Python hands over at once instead, which is several
times faster under load and keeps the busy timeout for other processes.

A chat platform's answer waits for the request's record to be written (see
services/journal.py), so that write must not queue behind conversation turns: it waits
only for the turn in progress, then goes before every turn still waiting.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class TurnLock:
    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0  # a unit of work may open another inside it, on the same thread
        self._first_waiting = 0

    @contextlib.contextmanager
    def turn(self, first: bool = False) -> Iterator[None]:
        me = threading.get_ident()
        with self._changed:
            if self._owner == me:
                self._depth += 1
            else:
                self._first_waiting += first
                try:
                    while self._owner is not None or (not first and self._first_waiting):
                        self._changed.wait()
                finally:
                    self._first_waiting -= first
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._changed:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._changed.notify_all()
