"""Posting queued alerts and DMs to Teams proactively, with retries: nothing is dropped.

The loop itself is the shared SendLoop. Team alerts start a new thread in the DSL or SLT channel
(TeamsInfo.send_message_to_teams_channel inside continue_conversation); DMs go to the
person's stored personal-chat reference, or open that chat first for someone who has
only ever pressed a button in a channel (`open_chat`); a decision updates the earlier
card in place (update_activity with the stored activity id). The outbox row is marked sent only once
the connector accepted it. 429 waits for Retry-After; a channel the bot can't reach is
logged with the fix and retried every minute; other failures back off exponentially
until they are parked as failed with a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import requests
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    Mention,
)
from botframework.connector.auth import AuthenticationConstants
from botframework.connector.models import ErrorResponseException

from bot.domain.messages import Message
from bot.kernel.core import Kernel
from bot.kernel.outbox import PendingSend
from bot.platforms.send_loop import SendLoop
from bot.platforms.teams import store
from bot.platforms.teams.button_seal import ButtonSeal
from bot.platforms.teams.cards import (
    Signer,
    fallback_text,
    mention_entities,
    mention_lines,
    needs_card,
    render,
)
from bot.platforms.teams.schools import DEFAULT_SCHOOL

log = logging.getLogger(__name__)
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
CHANNEL_PROBLEMS = {401, 403, 404}
REF_LIMIT = 200


class NoRoute(Exception):
    """There is nowhere to send this yet; the message tells an admin what to do."""


def to_activity(message: Message, sign: Signer) -> Activity:
    """The activity for `message`; `sign` seals its card's buttons with their school."""
    if not needs_card(message):
        return Activity(
            type=ActivityTypes.message, text=message.with_names().text, text_format="plain"
        )
    activity = Activity(
        type=ActivityTypes.message,
        summary=fallback_text(message)[:200],
        attachments=[Attachment(content_type=ADAPTIVE, content=render(message, sign))],
    )
    if entities := mention_entities(message):
        # The lines naming people go above the card, with mention entities: Teams then
        # shows them as mentions and notifies them (the card shows the rest).
        activity.text = mention_lines(message)
        activity.entities = [
            Mention(mentioned=ChannelAccount(**e["mentioned"]), text=e["text"], type="mention")
            for e in entities
        ]
    return activity


def http_status(exc: ErrorResponseException) -> tuple[int, dict[str, str]]:
    response = exc.response
    status = getattr(response, "status", None) or getattr(response, "status_code", 0)
    return int(status or 0), dict(getattr(response, "headers", {}) or {})


def reference(data: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(data)


def tenant_of(activity: Activity) -> str | None:
    """The person's tenant. Teams sends it as channelData.tenant.id and conversation.tenantId;
    botbuilder-python reads the latter under the key "tenantID", so it is found among the
    conversation's unknown keys instead."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    found = tenant.get("id") if isinstance(tenant, dict) else None
    if isinstance(found, str) and found:
        return found
    conversation = activity.conversation
    if conversation is None:
        return None
    extra = getattr(conversation, "additional_properties", None) or {}
    fallback = conversation.tenant_id or extra.get("tenantId")
    return fallback if isinstance(fallback, str) and fallback else None


def member_record(activity: Activity) -> dict[str, Any]:
    """What it takes to open a personal chat with whoever sent `activity`, kept for later."""
    return {
        "service_url": activity.service_url,
        "tenant": tenant_of(activity),
        "member": activity.from_property.id,
        "bot": activity.recipient.serialize(),
    }


class TeamsSendLoop(SendLoop):
    platform = "teams"
    # Teams' bot rate limits (learn.microsoft.com/microsoftteams/platform/bots/how-to/
    # rate-limit): per bot per conversation 7 messages a second (8 in 2 s, 60 in 30 s,
    # 1800 an hour), and 50 requests a second per app per tenant. Bulk sends (each to
    # its own conversation) go at 7 a second in all, well inside the tenant's 50.
    bulk_gap = 1 / 7

    def __init__(
        self,
        kernel: Kernel,
        cloud: CloudAdapter,
        app_id: str | None,
        channels: dict[str, str | None],
        clock: Callable[[], datetime] | None = None,
        *,
        seal: ButtonSeal,
        poll_seconds: float = 2.0,
    ):
        super().__init__(kernel, clock, poll_seconds)
        self.cloud = cloud
        # Proactive turns need an app id; without credentials (the Emulator) any will do.
        self.bot_id = app_id or AuthenticationConstants.ANONYMOUS_SKILL_APP_ID
        self.channels = channels
        self.seal = seal
        # Told of each question card sent to a person's chat (user, activity id, card,
        # step), so it shows the answer once answered (the adapter's live_cards).
        self.keep_question: Callable[[str, str, dict[str, Any], str], None] | None = None

    # --- where things go ---------------------------------------------------------------

    def route(self, team: str) -> tuple[str, ConversationReference]:
        """(channel id, a reference that reaches its kernel) for a team's alerts."""
        chosen = store.load(self.kernel, f"team:{team}")
        if chosen:
            return chosen["conversation"]["id"], reference(chosen)
        channel = self.channels.get(team)
        if channel:
            base = store.load(self.kernel, f"channel:{channel}") or store.any_channel(self.kernel)
            if base:
                return channel, reference(base)
            raise NoRoute(
                f"Teams: TEAMS_{team.upper()}_CHANNEL is set, but schoolbot hasn't been added "
                "to any team yet. Add the app to the team that has that channel."
            )
        raise NoRoute(
            f"Teams: no channel for {team.upper()} alerts. A {team.upper()} member should type "
            f"'@schoolbot use this channel for {team}' in the channel, or set "
            f"TEAMS_{team.upper()}_CHANNEL."
        )

    # --- sending ---------------------------------------------------------------------------

    async def send(self, item: PendingSend) -> None:
        if item.message.retract:
            await self._retract(item)
            return
        try:
            if item.replaces_ref:
                ref = await self._update(item)
            elif item.target_kind == "team":
                ref = await self._post_to_channel(item)
            else:
                ref = await self._post_to_user(item)
        except NoRoute as problem:
            log.error("%s The message will be retried (outbox %s).", problem, item.outbox_id)
            await self.retry(item, "no route", timedelta(minutes=1))
            return
        except ErrorResponseException as exc:
            await self._failed(item, exc)
            return
        except (aiohttp.ClientError, requests.RequestException, OSError, TimeoutError) as exc:
            log.warning(
                "Teams: network error delivering outbox %s: %s", item.outbox_id, type(exc).__name__
            )
            await self.retry(item, f"network: {type(exc).__name__}")
            return
        except PermissionError:  # the login kernel refused us; auth.py logged why
            await self.retry(item, "bot token refused")
            return
        await self.sent(item, ref)

    async def _post_to_channel(self, item: PendingSend) -> str:
        channel, base = await self.kernel.work.run(self.route, item.target)
        activity = to_activity(item.message, self._sign(item))
        sent: dict[str, str] = {}

        async def post(context: TurnContext) -> None:
            thread, activity_id = await TeamsInfo.send_message_to_teams_channel(
                context, activity, channel, bot_app_id=self.bot_id
            )
            sent["ref"] = f"{activity_id}|{thread.conversation.id}"

        await self.cloud.continue_conversation(base, post, self.bot_id)
        return sent["ref"][:REF_LIMIT]

    async def open_chat(self, user: str, member: dict[str, Any]) -> ConversationReference:
        """Start (or find: Teams returns the same one) the bot's personal chat with a person
        seen only in a channel, and remember it. Raises what the connector raised."""
        tenant = member.get("tenant")
        bot = ChannelAccount().deserialize(member["bot"])
        params = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=member["member"])],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        opened: dict[str, str] = {}

        async def created(context: TurnContext) -> None:
            opened["id"] = context.activity.conversation.id

        await self.cloud.create_conversation(
            self.bot_id, created, params, "msteams", member["service_url"], None
        )
        ref = ConversationReference(
            channel_id="msteams",
            service_url=member["service_url"],
            bot=bot,
            user=ChannelAccount(id=member["member"], aad_object_id=user),
            conversation=ConversationAccount(
                id=opened["id"], conversation_type="personal", tenant_id=tenant
            ),
        )
        await self.kernel.work.run(store.save, self.kernel, f"user:{user}", ref.serialize())
        return ref

    async def _user_reference(self, user: str) -> ConversationReference:
        data = await self.kernel.work.run(store.load, self.kernel, f"user:{user}")
        if data:
            return reference(data)
        member = await self.kernel.work.run(store.load, self.kernel, f"member:{user}")
        if member:
            return await self.open_chat(user, member)
        raise NoRoute(
            f"Teams: can't message user {user}: they haven't opened a chat with schoolbot yet."
        )

    async def _post_to_user(self, item: PendingSend) -> str:
        ref = await self._user_reference(item.target)
        activity = to_activity(item.message, self._sign(item))
        sent: dict[str, str] = {}

        async def post(context: TurnContext) -> None:
            response = await context.send_activity(activity)
            sent["ref"] = f"{response.id if response else ''}|{context.activity.conversation.id}"
            question = item.message.step and item.message.choices and activity.attachments
            if question and response and response.id and self.keep_question is not None:
                card = activity.attachments[0].content
                self.keep_question(item.target, response.id, card, item.message.step or "")

        await self.cloud.continue_conversation(ref, post, self.bot_id)
        return sent["ref"] if len(sent["ref"]) <= REF_LIMIT else sent["ref"].split("|")[0]

    async def _retract(self, item: PendingSend) -> None:
        """Replace the bot's own message about a disposed record with a short notice
        (update activity); delete it where Teams won't take the edit (delete activity).
        A message already gone (404) leaves nothing to do."""
        if not item.replaces_ref:
            await self.sent(item, None)
            return
        try:
            try:
                await self._update(item)
            except ErrorResponseException as exc:
                if http_status(exc)[0] != 400:
                    raise
                await self._update(item, delete=True)
        except ErrorResponseException as exc:
            status, headers = http_status(exc)
            if status == 404:
                log.info("Teams: outbox %s's message was already gone", item.outbox_id)
                await self.sent(item, None)
            elif status == 429:
                await self.rate_limited(item, headers.get("Retry-After"))
            else:
                log.warning("Teams error HTTP %s retracting outbox %s", status, item.outbox_id)
                await self.retry(item, f"HTTP {status}")
            return
        except NoRoute as problem:
            log.error("%s (retracting outbox %s)", problem, item.outbox_id)
            await self.retry(item, "no route", timedelta(minutes=1))
            return
        except (aiohttp.ClientError, requests.RequestException, OSError, TimeoutError) as exc:
            await self.retry(item, f"network: {type(exc).__name__}")
            return
        await self.sent(item, item.replaces_ref)

    async def _update(self, item: PendingSend, *, delete: bool = False) -> str:
        assert item.replaces_ref
        activity_id, _, conversation = item.replaces_ref.partition("|")
        if item.target_kind == "team":
            _, base = await self.kernel.work.run(self.route, item.target)
        else:
            data = await self.kernel.work.run(store.load, self.kernel, f"user:{item.target}")
            if not data:
                raise NoRoute(f"Teams: no chat with user {item.target} to update.")
            base = reference(data)
        base.conversation.id = conversation
        activity = to_activity(item.message, self._sign(item))
        activity.id = activity_id

        async def update(context: TurnContext) -> None:
            if delete:
                await context.delete_activity(activity_id)
            else:
                await context.update_activity(activity)

        await self.cloud.continue_conversation(base, update, self.bot_id)
        return item.replaces_ref

    def _sign(self, item: PendingSend) -> Signer:
        """Seals a queued message's buttons with its school: the first school's, until
        outbox rows carry their own (the schools table)."""
        del item
        return lambda data: self.seal.seal(data, DEFAULT_SCHOOL)

    # --- failures ----------------------------------------------------------------------

    async def _failed(self, item: PendingSend, exc: ErrorResponseException) -> None:
        status, headers = http_status(exc)
        error = f"HTTP {status}"
        if status == 429:
            await self.rate_limited(item, headers.get("Retry-After"))
        elif status in CHANNEL_PROBLEMS and item.target_kind != "team":
            log.error(
                "Teams: can't message a person (outbox %s, %s): they may have removed "
                "schoolbot from their apps in Teams, or left the school. It will be retried; "
                "ask them to open schoolbot in Teams (Apps, then schoolbot).",
                item.outbox_id,
                error,
            )
            await self.retry(item, error)
        elif status in CHANNEL_PROBLEMS:
            log.error(
                "Teams: can't post outbox %s (%s). Check that schoolbot is installed in the "
                "team that owns the %s channel. It will be retried.",
                item.outbox_id,
                error,
                item.target.upper(),
            )
            await self.retry(item, error, timedelta(minutes=1))
        else:
            log.warning("Teams error %s for outbox %s; will retry", error, item.outbox_id)
            await self.retry(item, error)
