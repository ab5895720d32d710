"""Posting queued alerts and DMs to Slack, with retries: nothing is dropped silently.

The outbox row is only marked sent once Slack accepted it. Failures are rescheduled:
429 after its Retry-After, a missing channel after a minute (with a log line telling an
admin how to fix it), anything else with exponential backoff until it is parked as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.blocks import render
from bot.services import BotService, Delivery

log = logging.getLogger(__name__)
CHANNEL_PROBLEMS = {"not_in_channel", "channel_not_found", "is_archived"}
MAX_ATTEMPTS = 12


class SlackDelivery:
    def __init__(
        self,
        service: BotService,
        client: AsyncWebClient,
        channels: dict[str, str | None],
        clock: Callable[[], datetime] | None = None,
        poll_seconds: float = 2.0,
    ):
        self.service = service
        self.client = client
        self.channels = channels
        self.clock = clock or service.now
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # one pass at a time, or a row could be posted twice
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Deliver now rather than at the next poll (called after each handled request)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="slack-delivery")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # keep delivering whatever one bad row does
                log.exception("slack delivery pass failed")

    async def flush(self) -> int:
        async with self._flushing:
            pending = await asyncio.to_thread(self.service.pending_deliveries, "slack")
            for item in pending:
                await self._send(item)
            return len(pending)

    def _channel_for(self, item: Delivery) -> str | None:
        return self.channels.get(item.target) if item.target_kind == "team" else item.target

    async def _send(self, item: Delivery) -> None:
        channel = self._channel_for(item)
        if not channel:
            log.error(
                "Slack: no channel configured for the %s team; set SLACK_%s_CHANNEL",
                item.target,
                item.target.upper(),
            )
            await self._retry(item, "no channel configured", timedelta(minutes=1))
            return
        text, blocks = render(item.message)
        try:
            if item.replaces_ref:
                original_channel, ts = item.replaces_ref.split(":", 1)
                await self.client.chat_update(
                    channel=original_channel, ts=ts, text=text, blocks=blocks
                )
                ref = item.replaces_ref
            else:
                response = await self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    unfurl_links=False,
                    metadata={
                        "event_type": "schoolbot_outbox",
                        "event_payload": {"outbox_id": item.outbox_id},
                    },
                )
                ref = f"{response['channel']}:{response['ts']}"
        except SlackApiError as exc:
            await self._failed(item, channel, exc)
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "Slack: network error delivering outbox %s: %s", item.outbox_id, type(exc).__name__
            )
            await self._retry(item, f"network: {type(exc).__name__}", self._backoff(item))
            return
        await asyncio.to_thread(self.service.mark_delivered, item.outbox_id, ref)

    async def _failed(self, item: Delivery, channel: str, exc: SlackApiError) -> None:
        error = str(exc.response.get("error", "unknown_error"))
        if exc.response.status_code == 429:
            wait = int(exc.response.headers.get("Retry-After", "1") or 1)
            log.warning("Slack rate-limited outbox %s; retrying in %ss", item.outbox_id, wait)
            await self._retry(item, "ratelimited", timedelta(seconds=wait))
        elif error in CHANNEL_PROBLEMS:
            log.error(
                "Slack: can't post to %s (%s). An admin should open that channel and type "
                "/invite @schoolbot, or correct SLACK_%s_CHANNEL. The alert will be retried.",
                channel,
                error,
                item.target.upper(),
            )
            await self._retry(item, error, timedelta(minutes=1))
        elif item.attempts + 1 >= MAX_ATTEMPTS:
            log.error(
                "Slack: giving up on outbox %s after %s attempts (%s); see the outbox table",
                item.outbox_id,
                item.attempts + 1,
                error,
            )
            await asyncio.to_thread(self.service.mark_failed, item.outbox_id, error, None)
        else:
            log.warning("Slack error %s for outbox %s; will retry", error, item.outbox_id)
            await self._retry(item, error, self._backoff(item))

    def _backoff(self, item: Delivery) -> timedelta:
        return timedelta(seconds=min(2**item.attempts, 300))

    async def _retry(self, item: Delivery, error: str, wait: timedelta) -> None:
        await asyncio.to_thread(
            self.service.mark_failed, item.outbox_id, error, self.clock() + wait
        )
