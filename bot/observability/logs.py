"""Structured logs: with SCHOOLBOT_LOG_FORMAT=json, one JSON object per line.

Our own small logging.Formatter rather than a library: it writes a fixed allow-list of
keys (time, level, logger, event, request_id, platform, school), so nothing a caller
attaches to a record (`extra=`) can reach the log by accident, and an exception is logged
as its type and where it happened, never its text (a database error can quote what staff
wrote). The event is the line the code logged, which never holds a token, a name, message
text or evidence: that rule is the code's, and is tested.

The request id and platform come from a context variable set for each request (the
server's middleware, the intake queue's jobs, the send loops), so every line written while
handling a request carries them, on the event loop and on the database threads alike.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
KEYS = ("time", "level", "logger", "event", "request_id", "platform", "school")


@dataclass(frozen=True)
class RequestTag:
    """Which request a log line belongs to: our own id for it (never one a client sent)
    and the platform it came from."""

    request_id: str | None
    platform: str | None = None


_current: contextvars.ContextVar[RequestTag | None] = contextvars.ContextVar(
    "schoolbot_request", default=None
)
_school: str | None = None  # the policy pack's school; one per process


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def new_tag(platform: str | None = None) -> RequestTag:
    return RequestTag(new_request_id(), platform)


def current() -> RequestTag | None:
    return _current.get()


def bind(tag: RequestTag | None) -> contextvars.Token[RequestTag | None]:
    """Tag the log lines written from here on in this context; `reset` undoes it."""
    return _current.set(tag)


def reset(token: contextvars.Token[RequestTag | None]) -> None:
    _current.reset(token)


def set_school(name: str | None) -> None:
    """The school the lines are about, once the policy pack is loaded."""
    global _school
    _school = name


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with only the keys in KEYS (and, for an exception,
    its type and frames)."""

    def format(self, record: logging.LogRecord) -> str:
        tag = getattr(record, "request_tag", None)
        if not isinstance(tag, RequestTag):
            tag = _current.get()
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            "request_id": tag.request_id if tag else None,
            "platform": tag.platform if tag else None,
            "school": _school,
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frames = traceback.extract_tb(error.__traceback__)
            line["error"] = type(error).__name__
            line["where"] = [f"{f.filename}:{f.lineno} {f.name}" for f in frames[-8:]]
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(log_format: str, path: Path | None = None) -> logging.Handler:
    """A handler writing `log_format` ("text" or "json") to stderr, or to the file `path`."""
    out: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler()
    )
    if log_format == "json":
        out.setFormatter(JsonFormatter())
    else:
        out.setFormatter(logging.Formatter(TEXT_FORMAT))
    return out


# --- secrets that others' code may log --------------------------------------------------

# A sign-in link's or session's token is 43 URL-safe characters; anything as long as 20
# of them (a token cut short included) is treated as one. A path after /sign-in/ always is,
# and so is an OAuth `code` in a query string (Slack's install redirect), however short.
_TOKENISH = re.compile(r"/sign-in/[^\s'\"?#]*|(?<=[?&]code=)[^&\s'\"#]+|[A-Za-z0-9_\-]{20,}")
REDACTED = "[redacted]"
# The libraries whose log lines may quote a request: aiohttp logs the start of a request
# line or header it refused (LineTooLong), which can hold a session cookie or a link.
QUOTING_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web", "aiohttp.internal",
                   "aiohttp.client", "asyncio")  # fmt: skip


def redact(text: str) -> str:
    """The text without anything that could be a token."""
    return _TOKENISH.sub(lambda m: "/sign-in/…" if m[0].startswith("/") else REDACTED, text)


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | bytearray):
        return redact(bytes(value).decode("utf-8", "replace")).encode()
    return value


def _scrub(error: BaseException | None, depth: int = 0) -> None:
    """Redact an exception's own text (and its causes'): it is printed with the traceback."""
    if error is None or depth > 5:
        return
    error.args = tuple(_redacted(arg) for arg in error.args)
    if isinstance(getattr(error, "message", None), str):
        error.message = redact(error.message)  # type: ignore[attr-defined]  # aiohttp's
    _scrub(error.__cause__, depth + 1)
    _scrub(error.__context__, depth + 1)


class RedactTokens(logging.Filter):
    """Rewrites each record of a library's logger so that no token is left in it: the
    message with its arguments filled in, and the exception's text. Records of our own
    code never hold one (the rule is tested); a library may quote what a client sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            _scrub(record.exc_info[1])
        record.exc_text = redact(record.exc_text) if record.exc_text else record.exc_text
        return True


_FILTER = RedactTokens()


def redact_library_logs() -> None:
    """Put the filter on every logger in QUOTING_LOGGERS (once; more calls change nothing)."""
    for name in QUOTING_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
