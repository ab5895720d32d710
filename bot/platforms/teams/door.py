"""The Teams door: what POST /api/messages checks before botbuilder sees an activity.

In order: unsigned requests only from loopback in anonymous mode, and none without a
token otherwise (401, unread); JSON with the right Content-Type, at most 1 MB, bounded in
depth and numbers (400/413); an activity botbuilder can read, with the conversation,
sender, recipient and serviceUrl every turn needs (400: with no serviceUrl, a reply would
go to the public Bot Framework host). The token itself is checked next, by botbuilder.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse
from botbuilder.schema import Activity
from msrest.serialization import Model

from bot.intake import guard
from bot.platforms.teams.wire import from_wire

log = logging.getLogger(__name__)


def is_loopback(remote: str | None) -> bool:
    try:
        return ipaddress.ip_address(remote or "").is_loopback
    except ValueError:
        return False


def bad_request(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def admit(request: web.Request, *, anonymous: bool) -> Activity | web.Response:
    """The activity, or the answer that refuses the request."""
    if anonymous and not is_loopback(request.remote):
        return bad_request("unauthorized", 401)
    if not anonymous and not request.headers.get("Authorization"):
        return bad_request("unauthorized", 401)
    if request.content_type != "application/json":
        return bad_request("Content-Type must be application/json")
    try:
        body = guard.load_json(await guard.read_body(request))
    except guard.BadRequest as exc:
        return bad_request(str(exc), exc.status)
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return bad_request("the body is not a Bot Framework activity")
    try:
        activity = from_wire(Activity, body)  # what Activity().deserialize gives, faster
    except Exception:  # msrest's DeserializationError and friends: a malformed field
        return bad_request("the activity has a malformed field")
    if problem := _missing(activity):
        return bad_request(problem)
    return activity


def _missing(activity: Activity) -> str | None:
    if activity.conversation is None or not activity.conversation.id:
        return "the activity has no conversation"
    if activity.from_property is None or not activity.from_property.id:
        return "the activity has no sender"
    if activity.recipient is None or not activity.recipient.id:
        return "the activity has no recipient"
    if not (activity.service_url or "").startswith(("https://", "http://")):
        return "the activity has no serviceUrl"
    return None


def answer(invoke: InvokeResponse | None) -> web.Response:
    """The HTTP answer to a turn: an invoke's own answer, always as JSON."""
    if invoke is None:
        return web.Response(status=200)
    if invoke.status == 501:  # an invoke this bot has no feature for
        return bad_request("this bot does not handle that invoke")
    return web.json_response(_plain(invoke.body), status=invoke.status)


def _plain(body: Any) -> Any:
    """botbuilder hands back its own models for some invoke answers."""
    try:
        if isinstance(body, Model):
            body = body.serialize()
        json.dumps(body)
    except Exception:  # TypeError, ValueError, msrest's SerializationError (an error value)
        log.error("Teams: an invoke answer was not JSON (%s)", type(body).__name__)
        return None
    return body
