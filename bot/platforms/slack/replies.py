"""Replies to a request, named so that a rerun after a crash posts only the missing ones.

Slack accepted a reply, then the bot was killed before it deleted the request's record:
the next start runs the request again from its record. Each reply carries message
metadata (the request's unique tag and the reply's place), so the rerun looks in the
conversation's history first and skips what Slack already has. If that look-up fails,
the reply is posted anyway: a rare duplicate beats a lost answer.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)
REPLY_TYPE = "schoolbot_reply"


def metadata(tag: str | None, n: int) -> dict[str, Any] | None:
    """What to attach to reply `n` of the request named `tag` (None: not recorded)."""
    if tag is None:
        return None
    return {"event_type": REPLY_TYPE, "event_payload": {"request": tag, "n": n}}


async def already_posted(client: AsyncWebClient, channel: str, tag: str) -> set[int]:
    """The places of this request's replies that are already in the conversation."""
    try:
        if not channel.startswith(("D", "C", "G")):  # a user id: history needs the DM's id
            opened = await client.conversations_open(users=channel)
            channel = opened["channel"]["id"]
        history = await client.conversations_history(
            channel=channel, include_all_metadata=True, limit=100
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning(
            "Slack: couldn't check which replies were sent before a restart: %s",
            type(exc).__name__,
        )
        return set()
    found: set[int] = set()
    messages: list[dict[str, Any]] = history.get("messages", [])
    for message in messages:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        n = payload.get("n")
        if meta.get("event_type") == REPLY_TYPE and payload.get("request") == tag and n is not None:
            found.add(n)
    if found:
        log.info("Slack: %d replies were sent before a restart; not sending them again", len(found))
    return found
