"""The Slack door for HTTP mode: what `SlackAdapter.handle` checks before bolt sees a request.

In order: the size (413), the v0 signature over the raw bytes with a timestamp inside the
5-minute window (401; nothing is read or logged before this), UTF-8, JSON depth and
numbers, and the shape of the fields our listeners and bolt read (400). Then a click,
form or command whose signed bytes were seen before is a replay: answered, not applied.
"""

from __future__ import annotations

import hmac
import time
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.intake import guard


class SlackDoor:
    def __init__(self, secret: str, replays: guard.Replays):
        self.secret, self.replays = secret, replays

    async def admit(self, request: web.Request) -> AsyncBoltRequest | web.Response:
        """The request for bolt, or the answer that refuses it (or acknowledges a replay)."""
        try:
            raw = await guard.read_body(request)
        except guard.TooLarge as exc:
            return web.json_response({"error": str(exc)}, status=413)
        if raw.startswith(b"ssl_check=1"):  # Slack checking our certificate: nothing to do
            return web.Response(status=200)
        if not signed(self.secret, request.headers, raw, time.time()):
            return web.json_response({"error": "invalid signature"}, status=401)
        content_type = request.headers.get("Content-Type", "").split(";")[0] or None
        try:
            text = guard.utf8(raw)
            body = parse(text, content_type)
            admitted = AsyncBoltRequest(
                body=text, query=request.query_string, headers=dict(request.headers)
            )
        except guard.BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except Exception:  # bolt reading a field of an unexpected type
            return web.json_response({"error": "malformed payload"}, status=400)
        if body.get("type") not in ("event_callback", "url_verification"):
            # Events carry their own id (deduplicated in the turn); clicks, forms and
            # commands don't, so the signed bytes are the id, remembered for the window.
            key = guard.replay_key(
                "slack-signed",
                request.headers["X-Slack-Request-Timestamp"],
                request.headers["X-Slack-Signature"],
            )
            if not await self.replays.first(key):
                return web.Response(status=200)
        return admitted


def signed(secret: str, headers: Any, raw: bytes, now: float) -> bool:
    """Slack's v0 signature over the raw bytes, and a timestamp inside the window."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    given = headers.get("X-Slack-Signature", "")
    if not secret or not guard.fresh(timestamp, now):
        return False
    expected = "v0=" + guard.hmac_hex(secret, b"v0:" + timestamp.encode() + b":" + raw)
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Id(_Loose):
    id: str = Field(min_length=1, max_length=100)


class _Channel(_Loose):
    id: str = Field(default="", max_length=100)


class _Action(_Loose):
    action_id: str = Field(max_length=255)
    value: str = Field(default="", max_length=2000)


class _View(_Loose):
    type: str = Field(max_length=50)  # bolt reads it unchecked
    private_metadata: str = Field(default="", max_length=3000)
    state: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class SlackInteraction(_Loose):
    """Buttons, shortcuts and form submissions: someone pressed something."""

    type: str
    user: _Id
    channel: _Channel | None = None
    actions: list[_Action] = Field(default_factory=list)
    view: _View | None = None


class SlackCommand(_Loose):
    command: str
    user_id: str = Field(min_length=1, max_length=100)
    text: str = Field(default="", max_length=4000)


class _Event(_Loose):
    type: str
    user: str = Field(default="", max_length=100)
    channel: str = Field(default="", max_length=100)
    text: str | None = Field(default=None, max_length=40_000)
    files: list[dict[str, Any]] | None = None


class SlackEnvelope(_Loose):
    type: str
    event_id: str | None = Field(default=None, max_length=100)
    event: _Event | None = None


def parse(text: str, content_type: str | None) -> dict[str, Any]:
    """Parse a verified Slack body the way bolt will, and check its shape first, so bolt's
    listeners only ever see the fields they read in the types they expect."""
    is_json = content_type == "application/json" or text.startswith("{")
    if is_json:
        body = guard.load_json(text)
        if not isinstance(body, dict):
            raise guard.BadRequest("the body is not a JSON object")
        _check(SlackEnvelope, body)
        return body
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in text and "payload" in form:  # bolt's own test for an interaction
        payload = guard.load_json(form["payload"])
        if not isinstance(payload, dict):
            raise guard.BadRequest("payload is not a JSON object")
        _check(SlackInteraction, payload)
        return payload
    if "command" in form:
        _check(SlackCommand, form)
    return form


def _check(model: type[BaseModel], data: dict[str, Any]) -> None:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        where = {".".join(map(str, e["loc"])) or "body" for e in exc.errors()}
        raise guard.BadRequest("malformed payload: " + ", ".join(sorted(where))[:200]) from None
