"""Posting queued alerts and DMs to Slack, with retries: nothing is dropped silently.

The outbox row is only marked sent once Slack accepted it. Failures are rescheduled:
429 after its Retry-After, a missing channel after a minute (with a log line telling an
admin how to fix it), anything else with exponential backoff until it is parked as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.kernel.core import Kernel
from bot.kernel.outbox import PendingSend
from bot.platforms.send_loop import SendLoop
from bot.platforms.slack import questions
from bot.platforms.slack.blocks import render

log = logging.getLogger(__name__)
CHANNEL_PROBLEMS = {"not_in_channel", "channel_not_found", "is_archived"}
# A retraction (a disposed record's alert): already gone is done; not editable is deleted.
GONE = {"message_not_found", "channel_not_found", "is_archived"}
NOT_EDITABLE = {"cant_update_message", "edit_window_closed"}
METADATA_TYPE = "schoolbot_outbox"
# The outbox's note on a message held while its school's Slack is disconnected.
HELD = "held: Slack is disconnected for this school"
HOLD_FOR = timedelta(minutes=5)  # then looked at again; a reinstall resumes it at once


@dataclass(frozen=True)
class Route:
    """Where one school's messages go: a client with its bot token, and its channels."""

    client: AsyncWebClient
    channels: dict[str, str | None]


# With Slack installed per school: the route for a school's sends, None while disconnected.
Router = Callable[[int], Awaitable[Route | None]]


class SlackSendLoop(SendLoop):
    platform = "slack"
    # Slack's rate limits page (docs.slack.dev/apis/web-api/rate-limits): chat.postMessage
    # "generally allows posting one message per second per channel, while also maintaining
    # a workspace-wide limit" (unpublished). Bulk sends keep to one a second in all, so
    # the workspace-wide budget stays free for alerts and replies.
    bulk_gap = 1.0

    def __init__(
        self,
        kernel: Kernel,
        client: AsyncWebClient,
        channels: dict[str, str | None],
        clock: Callable[[], datetime] | None = None,
        poll_seconds: float = 2.0,
        *,
        router: Router | None = None,
    ):
        super().__init__(kernel, clock, poll_seconds)
        self.client = client
        self.channels = channels
        self.router = router

    @staticmethod
    def _channel_for(item: PendingSend, channels: dict[str, str | None]) -> str | None:
        return channels.get(item.target) if item.target_kind == "team" else item.target

    async def send(self, item: PendingSend) -> None:
        client, channels = self.client, self.channels
        if self.router is not None:
            route = await self.router(self.kernel.work.school_id)  # this loop's school
            if route is None:
                await self._hold(item)
                return
            client, channels = route.client, route.channels
        if item.message.retract:
            await self._retract(item, client)
            return
        channel = self._channel_for(item, channels)
        if not channel:
            log.error(
                "Slack: no channel configured for the %s team; set SLACK_%s_CHANNEL",
                item.target,
                item.target.upper(),
            )
            await self.retry(item, "no channel configured", timedelta(minutes=1))
            return
        text, blocks = render(item.message)
        try:
            if item.replaces_ref:
                original_channel, ts = item.replaces_ref.split(":", 1)
                await client.chat_update(channel=original_channel, ts=ts, text=text, blocks=blocks)
                ref: str | None = item.replaces_ref
            else:
                ref = await self._already_posted(item, channel, client) if item.maybe_sent else None
                if ref is None:
                    response = await client.chat_postMessage(
                        channel=channel,
                        text=text,
                        blocks=blocks,
                        unfurl_links=False,
                        metadata={
                            "event_type": METADATA_TYPE,
                            "event_payload": {"outbox_id": item.outbox_id},
                        },
                    )
                    ref = f"{response['channel']}:{response['ts']}"
                    await self._keep_question(item, response, text, blocks)
        except SlackApiError as exc:
            await self._failed(item, channel, exc)
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "Slack: network error delivering outbox %s: %s", item.outbox_id, type(exc).__name__
            )
            await self.retry(item, f"network: {type(exc).__name__}")
            return
        await self.sent(item, ref)

    async def _keep_question(
        self, item: PendingSend, response: Any, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        """A question sent later (a reminder of an unfinished report) is kept until it is
        answered, as a reply's is, so a typed answer closes it too (see questions.py)."""
        message = item.message
        if item.target_kind == "team" or not (message.step and message.choices):
            return
        posted = {"channel": response["channel"], "ts": response["ts"], "text": text}
        posted["blocks"] = blocks
        try:
            await self.kernel.work.run(
                questions.keep, self.kernel, item.target, message.step, posted
            )
        except Exception as exc:  # the message went; only its closing later is lost
            log.warning("Slack: a question message was not kept: %s", type(exc).__name__)

    async def _hold(self, item: PendingSend) -> None:
        """Not sent and not lost: it waits, uncounted, until the school is connected again."""
        log.warning(
            "Slack: school %s is disconnected; outbox %s waits until the app is installed "
            "again (see `schoolbot slack status`)",
            self.kernel.work.school_id,
            item.outbox_id,
        )
        until = self.clock() + HOLD_FOR
        await self.kernel.work.run(self.kernel.outbox.hold, item.outbox_id, HELD, until)

    async def _retract(self, item: PendingSend, client: AsyncWebClient) -> None:
        """Replace the bot's own message about a disposed record with a short notice
        (chat.update); delete it where Slack won't edit it (chat.delete). A message
        someone already deleted, or a channel gone, leaves nothing to do."""
        if not item.replaces_ref:
            await self.sent(item, None)
            return
        channel, ts = item.replaces_ref.split(":", 1)
        text, blocks = render(item.message)  # the notice's blocks replace the alert's
        try:
            try:
                await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            except SlackApiError as exc:
                if exc.response.get("error") not in NOT_EDITABLE:
                    raise
                await client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            if error in GONE:
                log.info("Slack: outbox %s's message was already gone (%s)", item.outbox_id, error)
                await self.sent(item, None)
            elif exc.response.status_code == 429:
                await self.rate_limited(item, exc.response.headers.get("Retry-After"))
            else:
                log.warning(
                    "Slack error %s retracting outbox %s; will retry", error, item.outbox_id
                )
                await self.retry(item, error)
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self.retry(item, f"network: {type(exc).__name__}")
            return
        await self.sent(item, item.replaces_ref)

    async def _already_posted(
        self, item: PendingSend, channel: str, client: AsyncWebClient
    ) -> str | None:
        """After a crash between posting and recording: find our message by its metadata.

        If the lookup itself fails, post anyway: a rare duplicate beats a lost alert.
        """
        try:
            return await self._find_posted(item, channel, client)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Slack: couldn't check history for outbox %s: %s", item.outbox_id, exc)
            return None

    async def _find_posted(
        self, item: PendingSend, channel: str, client: AsyncWebClient
    ) -> str | None:
        if channel.startswith("U"):  # a DM: history needs the DM channel's own id
            opened = await client.conversations_open(users=channel)
            channel = opened["channel"]["id"]
        history = await client.conversations_history(
            channel=channel, include_all_metadata=True, limit=200
        )
        messages: list[dict[str, Any]] = history.get("messages", [])
        for message in messages:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_TYPE
                and payload.get("outbox_id") == item.outbox_id
            ):
                log.info(
                    "outbox %s was already posted before a restart; not posting again",
                    item.outbox_id,
                )
                return f"{channel}:{message['ts']}"
        return None

    async def _failed(self, item: PendingSend, channel: str, exc: SlackApiError) -> None:
        error = str(exc.response.get("error", "unknown_error"))
        if exc.response.status_code == 429:
            await self.rate_limited(item, exc.response.headers.get("Retry-After"))
        elif error in CHANNEL_PROBLEMS:
            log.error(
                "Slack: can't post to %s (%s). An admin should open that channel and type "
                "/invite @schoolbot, or correct SLACK_%s_CHANNEL. The alert will be retried.",
                channel,
                error,
                item.target.upper(),
            )
            await self.retry(item, error, timedelta(minutes=1))
        else:
            log.warning("Slack error %s for outbox %s; will retry", error, item.outbox_id)
            await self.retry(item, error)
