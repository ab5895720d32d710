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
from bot.domain.turns import TurnResult, TurnStatus
from bot.intake.lines import IntakeRecord
from bot.observability import metrics
from bot.platforms.slack import questions
from bot.platforms.slack.blocks import answered, render
from bot.platforms.slack.replies import already_posted, metadata
from bot.platforms.slack.sends import SlackSendLoop

log = logging.getLogger(__name__)
PLATFORM = "slack"


class SlackReplies:
    """How the adapter answers people; a failed reply goes to the outbox, never lost."""

    def __init__(self, service: BotService, client: AsyncWebClient, sends: SlackSendLoop):
        self.service, self.client, self.sends = service, client, sends

    async def close_question(
        self, user: str, result: TurnResult, pressed: dict[str, Any] | None = None
    ) -> None:
        """Show the answer on the question's messages and drop their buttons, so an old
        question can't be pressed again: every message that asked it (found in the ones
        kept) when it was answered, in words or with a button, and the message pressed.
        A stale button's message says it was already answered. Left alone when nothing was
        saved (try again), or when the question is asked again (an answer it couldn't read)."""
        if result.status is TurnStatus.UNSAVED:
            return
        label: str | None = None
        messages: list[dict[str, Any]] = []
        if result.answered is not None:
            label = result.answered.label
            kernel = self.service.kernel
            step = result.answered.step
            messages = await self.service.work.run(questions.take, kernel, user, step)
        if pressed and pressed.get("channel") and pressed.get("ts"):
            asked_again = any(m.step and m.step == pressed.get("step") for m in result.replies)
            if result.status is TurnStatus.DONE and label is None:
                # A menu button (it answers no question) shows what was chosen.
                label = None if asked_again else pressed.get("label") or None
                if label is None:
                    return
            if not any(m.get("ts") == pressed["ts"] for m in messages):
                messages.append(pressed)
        for message in messages:
            await self.call(
                "chat_update",
                channel=message["channel"],
                ts=message["ts"],
                text=message.get("text") or " ",
                blocks=answered(message.get("blocks") or [], label),
            )

    async def ephemeral(self, channel: str, user: str, messages: list[Message]) -> None:
        """Seen only by the person who pressed (a note that changes nothing, like "that
        question has already been answered"); if Slack won't show it, it is posted."""
        for n, message in enumerate(messages):
            text, blocks = render(message)
            sent = await self.call(
                "chat_postEphemeral", channel=channel, user=user, text=text, blocks=blocks
            )
            if not sent:
                await self.post_all(channel, user, messages[n:])
                return

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
            response = await self._call(
                "chat_postMessage", channel=channel, text=text, blocks=blocks, **extra
            )
            if response is None:
                failed.append(message)
            elif message.step and message.choices:
                await self._keep_question(user, message.step, response, text, blocks)
        await self._queue(user, failed, request)

    async def _keep_question(
        self, user: str, step: str, response: Any, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        """Kept until answered (see questions.py); if it can't be kept, the question just
        keeps its buttons after a typed answer, and they say "already answered"."""
        posted = {"channel": response.get("channel"), "ts": response.get("ts")}
        if not posted["channel"] or not posted["ts"]:
            return
        posted.update(text=text, blocks=blocks)
        try:
            await self.service.work.run(questions.keep, self.service.kernel, user, step, posted)
        except Exception as exc:  # the database is down, say: the reply itself went
            log.warning("Slack: a question message was not kept: %s", type(exc).__name__)

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
        return await self._call(method, **kwargs) is not None

    async def _call(self, method: str, **kwargs: Any) -> Any:
        """Slack's answer, or None when the call failed (logged and counted)."""
        try:
            response = await getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            limited = exc.response.status_code == 429
            metrics.send_result(PLATFORM, "rate_limited" if limited else "error")
            log.error("Slack %s failed: %s", method, exc.response.get("error"))
            return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.send_result(PLATFORM, "error")
            log.error("Slack %s failed: network error %s", method, type(exc).__name__)
            return None
        metrics.send_result(PLATFORM, "sent")
        return response
