"""Plays an integration posting comments to our webhook: signed as the module docstring of
bot/web/webhook.py says, `X-Schoolbot-Signature: v1=<hex HMAC-SHA256 of "v1:<timestamp>:<body>">`
with `X-Schoolbot-Timestamp` in Unix seconds."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.dispatch import BotService
from bot.web.webhook import PATH, signature

SECRET = "test-webhook-secret-not-real"
ACCOUNT = "Year 6 Blog"
CONTACTS = ["slack:UMOD1", "teams:aad-mod2"]


@dataclass
class Hook:
    server: TestServer
    service: BotService
    http: aiohttp.ClientSession

    async def post(
        self,
        body: bytes | dict[str, Any],
        *,
        timestamp: int | str | None = None,
        sign: bool = True,
        sig: str | None = None,
        secret: str = SECRET,
        content_type: str | None = "application/json",
    ) -> tuple[int, dict[str, Any]]:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"X-Schoolbot-Timestamp": ts}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if sig is not None:
            headers["X-Schoolbot-Signature"] = sig
        elif sign:
            headers["X-Schoolbot-Signature"] = signature(secret, ts, raw)
        response = await self.http.post(self.server.make_url(PATH), data=raw, headers=headers)
        text = await response.text()
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = {"raw": text}
        return response.status, data


def comment_body(**overrides: Any) -> dict[str, Any]:
    """A parent's question on ACCOUNT; an override of `...` leaves that field out."""
    body: dict[str, Any] = {
        "account": ACCOUNT,
        "author_type": "parent",
        "text": "When is the Year 6 trip letter going out?",
        "link": "https://blog.example.org/posts/12#comment-3",
        "received_at": "2026-11-21T14:30:00Z",
        "id": "ext-0001",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}
