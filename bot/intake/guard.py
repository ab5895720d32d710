"""The checks every inbound door makes before anything else reads a request.

Slack (platforms/slack/door.py), Teams and the comment webhook use them in the same order:
the size, then the signature on the raw bytes (a timestamp checked as text first), then
the JSON, scanned for depth and number length before `json.loads` sees it (deep nesting
would exhaust the parser's recursion, and Python refuses to turn more than 4,300 digits
into an int). A request that fails gets a 4xx with a short reason. Nothing here logs a
body: only why it was refused.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import json
import re
import time
import traceback
from collections.abc import Callable
from typing import Any

from aiohttp import web

MAX_DEPTH = 32  # Slack's and Teams' payloads nest about 12 deep
MAX_DIGITS = 64  # longer runs of digits are no number a platform sends
MAX_SKEW_SECONDS = 300  # a signed request older (or newer) than this is refused
MAX_BODY = 1024 * 1024  # Slack's and Teams' requests are a few KB; files come as links
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(set(range(256)) - set(b"[]{}"))
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))


class BadRequest(ValueError):
    """The request can't be taken: the message is the short reason for the 4xx."""

    status = 400


class TooLarge(BadRequest):
    status = 413


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The raw body, refused once it passes `limit` (chunked uploads are counted too), so
    no check after this ever scans more than that."""
    too_large = TooLarge(f"the body is over {limit // 1024} KB")
    if request.content_length and request.content_length > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


# --- raw bytes -------------------------------------------------------------------------


def json_problem(raw: bytes) -> str | None:
    """Why `raw` must not be parsed (too deep, a number too long), or None."""
    bare = _STRING.sub(b'""', raw)  # brackets and digits inside strings don't count
    # Byte-level passes (C speed, no per-match Python): keep only brackets, as one kind;
    # each pass then removes the innermost pairs, one level of depth.
    brackets = bare.translate(_AS_SQUARE, _NOT_BRACKET)
    for _ in range(MAX_DEPTH):
        if not brackets:
            break
        brackets = brackets.replace(b"[]", b"")
    if brackets:  # deeper than MAX_DEPTH (or unbalanced, which no parser would take)
        return f"the JSON is nested more than {MAX_DEPTH} deep"
    if b"0" * (MAX_DIGITS + 1) in bare.translate(_DIGITS_AS_ZERO):
        return f"a number in the JSON is longer than {MAX_DIGITS} digits"
    return None


def load_json(raw: bytes | str) -> Any:
    """Parse JSON that has passed the depth and number checks; BadRequest otherwise."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if problem := json_problem(data):
        raise BadRequest(problem)
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        raise BadRequest("the body is not valid JSON") from None


def json_object(text: Any) -> dict[str, Any]:
    """A JSON object from a string we wrote ourselves (e.g. Slack's private_metadata);
    anything else, including a tampered or broken value, is an empty object."""
    if not isinstance(text, str) or not text:
        return {}
    try:
        data = load_json(text)
    except BadRequest:
        return {}
    return data if isinstance(data, dict) else {}


def fresh(timestamp: str, now: float, skew: int = MAX_SKEW_SECONDS) -> bool:
    """A Unix-seconds header within `skew` of now. Checked as text first: no int() of
    thousands of digits, no Unicode digits."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    return abs(now - int(timestamp)) <= skew


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def replay_key(prefix: str, timestamp: str, signature: str) -> str:
    """A short id for one signed delivery: the same bytes sent again have the same key.
    (The signature covers the timestamp and the body, so this is a digest of both.)"""
    digest = hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()
    return f"{prefix}:{digest[:40]}"


class Replays:
    """Signed deliveries already applied, so a replay inside the signature window does
    nothing. Remembered in the database (processed_delivery, kept a week) and, for this
    process, in memory, so the ack never waits for a database write: on SQLite that write
    queues behind every conversation turn and clicks would be acked seconds late. With
    several instances on one database the database is asked first (no turn queue there).
    At start, the keys of the last two signature windows are read back, so a restart
    forgets none."""

    def __init__(
        self,
        first_request: Callable[[str], bool],
        recent: Callable[[float], list[str]] | None = None,
        *,
        shared_database: bool = False,
    ):
        self._first_request = first_request
        self._shared = shared_database
        self._thread = concurrent.futures.ThreadPoolExecutor(1, "replay-check")
        self._seen: dict[str, float] = {}
        now = time.monotonic()
        for key in recent(2 * MAX_SKEW_SECONDS) if recent else ():
            self._seen[key] = now

    async def first(self, key: str) -> bool:
        """True the first time (also if the database is down: then the turn says so)."""
        now = time.monotonic()
        if key in self._seen:
            return False
        self._seen[key] = now
        self._forget(now)
        loop = asyncio.get_running_loop()
        if self._shared:
            return await loop.run_in_executor(self._thread, self._first_request, key)
        loop.run_in_executor(self._thread, self._first_request, key)  # for a restart
        return True

    def _forget(self, now: float) -> None:
        """Keys older than twice the window can't be replayed (their signature is stale)."""
        if len(self._seen) % 1000:
            return
        for key, at in list(self._seen.items()):
            if now - at > 2 * MAX_SKEW_SECONDS:
                del self._seen[key]

    def close(self, *, wait: bool = False) -> None:
        self._thread.shutdown(wait=wait)


def utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None


def where(exc: BaseException) -> str:
    """An exception's type and the last few places it passed, for a log line: never its
    message or a full traceback, which can quote what someone wrote."""
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    path = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
    return f"{type(exc).__name__} at {path}" if path else type(exc).__name__
