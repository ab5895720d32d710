"""Sending replies to Slack: posts named for crash reruns, private replies, the outbox
fallback, and marking an answered question's message, all through one Web API client."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import BotService
from bot.domain.messages import Message
from bot.domain.turns import TurnStatus
from bot.intake.lines import IntakeRecord
from bot.observability import metrics
from bot.platforms.slack.blocks import answered, render
from bot.platforms.slack.replies import already_posted, metadata
from bot.platforms.slack.sends import SlackSendLoop

log = logging.getLogger(__name__)
PLATFORM = "slack"


class SlackReplies:
    """How the adapter answers people; a failed reply goes to the outbox, never lost."""

    def __init__(self, service: BotService, client: AsyncWebClient, sends: SlackSendLoop):
        self.service, self.client, self.sends = service, client, sends

    async def mark_answered(self, question: dict[str, Any] | None, status: TurnStatus) -> None:
        """Show the answer on the question's message and drop its buttons, so an old
        question can't be pressed again. Left alone when nothing was saved (try again)."""
        if not question or not question.get("channel") or not question.get("ts"):
            return
        if status is TurnStatus.UNSAVED:
            return
        taken = status is TurnStatus.DONE
        blocks = answered(question["blocks"], question["label"] if taken else None)
        await self.call(
            "chat_update",
            channel=question["channel"],
            ts=question["ts"],
            text=question["text"] or " ",
            blocks=blocks,
        )

    async def post_all(
        self,
        channel: str,
        user: str,
        messages: list[Message],
        request: IntakeRecord | None = None,
    ) -> None:
        """Post the replies; those of a recorded request are named, so that a rerun after a
        crash skips the ones Slack already has."""
        tag = request.tag if request else None
        sent = await self._sent_before(channel, request)
        failed = []
        for n, message in enumerate(messages):
            if n in sent:
                continue
            text, blocks = render(message)
            extra = {"metadata": meta} if (meta := metadata(tag, n)) else {}
            if not await self.call(
                "chat_postMessage", channel=channel, text=text, blocks=blocks, **extra
            ):
                failed.append(message)
        await self._queue(user, failed, request)

    async def tell(
        self,
        channel: str | None,
        user: str,
        messages: list[Message],
        request: IntakeRecord | None = None,
    ) -> None:
        """Private replies to a button press: ephemeral in a channel, a DM otherwise."""
        if not channel or channel.startswith("D"):
            await self.post_all(channel or user, user, messages, request)
            return
        failed = []
        for message in messages:  # ephemeral messages keep no history a rerun could check
            text, blocks = render(message)
            sent = await self.call(
                "chat_postEphemeral", channel=channel, user=user, text=text, blocks=blocks
            )
            if not sent:
                failed.append(message)
        await self._queue(user, failed, request)

    async def _sent_before(self, channel: str, request: IntakeRecord | None) -> set[int]:
        """For a rerun or a retry: which of its replies Slack already has."""
        if request is None or request.rerun_of is None or request.tag is None:
            return set()
        return await already_posted(self.client, channel, request.tag)

    async def _queue(
        self, user: str, failed: list[Message], request: IntakeRecord | None = None
    ) -> None:
        """A reply Slack refused even after the SDK's retries goes to the outbox as a DM,
        which keeps retrying with backoff: the person still gets it, a little later. The
        request's record goes in the same transaction, so a rerun can't send it twice."""
        if failed:
            done = request.id if request else None
            await self.service.work.run(
                self.service.intake.queue_replies, PLATFORM, user, failed, done
            )
        self.sends.kick()

    async def call(self, method: str, **kwargs: Any) -> bool:
        try:
            await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            limited = exc.response.status_code == 429
            metrics.send_result(PLATFORM, "rate_limited" if limited else "error")
            log.error("Slack %s failed: %s", method, exc.response.get("error"))
            return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.send_result(PLATFORM, "error")
            log.error("Slack %s failed: network error %s", method, type(exc).__name__)
            return False
        metrics.send_result(PLATFORM, "sent")
        return True
