"""POST /hooks/comments: comments from the social platforms' integrations.

Signed like Slack signs its requests: `X-Schoolbot-Signature: v1=<hex HMAC-SHA256 of
"v1:<timestamp>:<body>">` with the school's secret, and `X-Schoolbot-Timestamp` in Unix
seconds. A bad signature or a timestamp more than 5 minutes off gets 401; bad JSON or a
missing field gets 400 naming it. Sending the same `id` again returns the first comment,
and so does sending the same signed request again (a comment without an `id`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable

import sqlalchemy as sa
from aiohttp import web
from pydantic import ValidationError

from bot.dispatch import BotService
from bot.features.comments.moderation import RegisterError
from bot.features.comments.rules import CommentIn
from bot.intake import guard

log = logging.getLogger(__name__)
PATH = "/hooks/comments"
MAX_SKEW_SECONDS = 300
MAX_BODY = 64 * 1024


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


class CommentHook:
    def __init__(self, service: BotService, secret: str, clock: Callable[[], float] = time.time):
        self.service = service
        self.secret = secret
        self.clock = clock

    async def handle(self, request: web.Request) -> web.Response:
        too_large = _error(413, "body too large (64 KB at most)")
        if request.content_length and request.content_length > MAX_BODY:
            return too_large
        body = bytearray()  # chunked uploads have no Content-Length: count as we read
        async for chunk in request.content.iter_chunked(16 * 1024):
            body += chunk
            if len(body) > MAX_BODY:
                return too_large
        timestamp = request.headers.get("X-Schoolbot-Timestamp", "")
        given = request.headers.get("X-Schoolbot-Signature", "")
        if not guard.fresh(timestamp, self.clock(), MAX_SKEW_SECONDS):
            return _error(401, "missing or stale X-Schoolbot-Timestamp")
        expected = signature(self.secret, timestamp, bytes(body))
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
            return _error(401, "bad signature")
        if request.content_type != "application/json":
            return _error(400, "Content-Type must be application/json")
        try:
            data = CommentIn.model_validate(guard.load_json(bytes(body)))
        except guard.BadRequest:
            return _error(400, "body is not valid JSON")
        except ValidationError as exc:
            problems = [
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()
            ]
            return _error(400, "; ".join(problems))
        if data.id is None:  # a replay of these signed bytes returns the first comment
            data = data.model_copy(update={"id": guard.replay_key("signed", timestamp, given)})
        try:
            comment, created = await self.service.work.run(
                self.service.comments.log_comment, data, "webhook", "webhook"
            )
        except RegisterError as exc:
            return _error(400, f"account: {exc}")
        except sa.exc.SQLAlchemyError as exc:
            log.error("webhook comment not saved, database problem: %s", type(exc).__name__)
            return _error(503, "database unavailable; please retry")
        return web.json_response(
            {
                "ok": True,
                "comment": comment.ref,
                "due_at": comment.due_at.isoformat(),
                "duplicate": not created,
            },
            status=201 if created else 200,
        )

    def mount(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.handle)
