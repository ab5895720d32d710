"""Teams activities -> BotService calls -> Adaptive Card replies. A translator, not a second flow.

POST /api/messages is checked here before botbuilder sees it: JSON with the right
Content-Type (else 400), a valid Bot Framework token (else 401; unsigned requests only in
anonymous mode on loopback). Each turn replies while the request is open, as Bot Framework
expects; alerts and DMs go through the outbox (TeamsDelivery). A repeated activity id is
handled once. People are identified by their Entra object id (`aadObjectId`), which is the
same for every bot, falling back to the Teams user id.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import re
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, teams_get_channel_id
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters
from botbuilder.schema.teams import TeamInfo
from botframework.connector.models import ErrorResponseException

from bot.channels.teams import store
from bot.channels.teams.auth import build_authentication
from bot.channels.teams.cards import ACTION, CHOICE
from bot.channels.teams.delivery import TeamsDelivery, http_status, reference, to_activity
from bot.channels.teams.files import TeamsFiles, has_files
from bot.config import Settings
from bot.domain.messages import Message
from bot.services import BotService

log = logging.getLogger(__name__)
PLATFORM = "teams"
CHOOSE = re.compile(r"^use (?:this|the) channel for (?:the )?(dsl|slt)\b", re.I)
CHANNEL_HELP = (
    "I post the safeguarding (DSL) and senior leadership (SLT) alerts in team channels. "
    "To report something, message me in a personal chat. A DSL or SLT member can type "
    "'@schoolbot use this channel for dsl' (or slt) to have their team's alerts posted here."
)
SEND_RETRIES = 2


def user_id(account: ChannelAccount | None) -> str:
    """Entra object id when Teams gives it (stable across bots), else the Teams user id."""
    if account is None:
        return ""
    return account.aad_object_id or account.id or ""


def is_loopback(remote: str | None) -> bool:
    try:
        return ipaddress.ip_address(remote or "").is_loopback
    except ValueError:
        return False


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


class TeamsAdapter:
    APP_KEY: web.AppKey[TeamsAdapter] = web.AppKey("teams_adapter")

    def __init__(self, service: BotService, settings: Settings, anonymous: bool = False):
        self.service = service
        self.anonymous = anonymous
        self.auth, self.app_id = build_authentication(settings, anonymous)
        self.cloud = CloudAdapter(self.auth)
        self.bot = SchoolBot(self)
        self._http: aiohttp.ClientSession | None = None
        self.files = TeamsFiles(service, self.http)
        self.delivery = TeamsDelivery(
            service,
            self.cloud,
            self.app_id,
            {"dsl": settings.teams_dsl_channel, "slt": settings.teams_slt_channel},
        )

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle)
        app[self.APP_KEY] = self

        async def lifecycle(_app: web.Application):
            await self.delivery.start()
            yield
            await self.delivery.stop()
            if self._http is not None:
                await self._http.close()

        app.cleanup_ctx.append(lifecycle)

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _bad_request("Content-Type must be application/json")
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _bad_request("the body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _bad_request("the body is not a Bot Framework activity")
        try:
            activity = Activity().deserialize(body)
        except Exception:  # msrest's DeserializationError and friends: a malformed field
            return _bad_request("the activity has a malformed field")
        if self.anonymous and not is_loopback(request.remote):
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            result = await self.auth.authenticate_request(
                activity, request.headers.get("Authorization")
            )
        except Exception as exc:  # PermissionError, a bad signature, unknown key, ...
            log.info("Teams: request refused: %s", type(exc).__name__)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            invoke = await self.cloud.process_activity(result, activity, self.bot.on_turn)
        finally:
            self.delivery.kick()
        if invoke:
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    # --- helpers used by the handler -------------------------------------------------------

    async def send(self, context: TurnContext, messages: list[Message]) -> None:
        """Reply in this conversation; a 429 or 5xx is retried a couple of times."""
        for message in messages:
            for attempt in range(SEND_RETRIES + 1):
                try:
                    await context.send_activity(to_activity(message))
                    break
                except ErrorResponseException as exc:
                    status, headers = http_status(exc)
                    if attempt == SEND_RETRIES or not (status == 429 or status >= 500):
                        log.error("Teams reply failed: HTTP %s", status)
                        break
                    await asyncio.sleep(min(float(headers.get("Retry-After", "1") or 1), 5))

    async def tell(self, context: TurnContext, messages: list[Message]) -> None:
        """Private replies to a button pressed in a channel: in the person's personal chat."""
        activity = context.activity
        if activity.conversation.conversation_type == "personal" or not messages:
            await self.send(context, messages)
            return
        uid = user_id(activity.from_property)
        saved = await self.service.run(store.load, self.service, f"user:{uid}")
        if saved:
            ref = reference(saved)

            async def later(ctx: TurnContext) -> None:
                await self.send(ctx, messages)

            await self.cloud.continue_conversation(ref, later, self.delivery.bot_id)
            return
        params = ConversationParameters(
            is_group=False,
            bot=activity.recipient,
            members=[ChannelAccount(id=activity.from_property.id)],
            tenant_id=activity.conversation.tenant_id,
            channel_data={"tenant": {"id": activity.conversation.tenant_id}},
        )

        async def created(ctx: TurnContext) -> None:
            await self.send(ctx, messages)

        await self.cloud.create_conversation(
            self.delivery.bot_id, created, params, "msteams", activity.service_url, None
        )

    async def token(self, context: TurnContext) -> str | None:
        """The bot's own token, for images pasted into a chat."""
        client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        credentials = getattr(getattr(client, "config", None), "credentials", None)
        if not credentials or not getattr(credentials, "microsoft_app_id", None):
            return None
        return await asyncio.to_thread(credentials.get_access_token)


class SchoolBot(TeamsActivityHandler):
    def __init__(self, adapter: TeamsAdapter):
        self.adapter = adapter
        self.service = adapter.service

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.id:
            conversation = hashlib.sha256((activity.conversation.id or "").encode()).hexdigest()
            key = f"teams:{activity.id}:{conversation[:16]}"
            if not await self.service.run(self.service.first_delivery, key):
                log.info("duplicate Teams activity ignored")
                return
        kind = activity.conversation.conversation_type
        data = activity.value if isinstance(activity.value, dict) else None
        if data and data.get("schoolbot") in (CHOICE, ACTION):
            await self._submit(turn_context, data)
        elif kind == "personal":
            await self._remember_user(turn_context)
            await self._personal(turn_context)
        elif kind == "channel":
            await self._remember_channel(turn_context)
            await self._channel(turn_context)
        else:
            await self.adapter.send(
                turn_context, [Message("Please message me in a personal chat.")]
            )

    async def _personal(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        uid, name = user_id(activity.from_property), activity.from_property.name
        files, refusals = await self.adapter.files.fetch_all(
            activity.attachments,
            activity.service_url,
            lambda: self.adapter.token(turn_context),
        )
        replies = [Message(text) for text in refusals]
        text = activity.text or ""
        if files or text.strip() or not has_files(activity.attachments):
            replies += await self.service.run(
                self.service.handle_message, PLATFORM, uid, text, files, name
            )
        else:  # only refused files: ask the pending question again so nothing is stuck
            replies += await self.service.run(self.service.greet, PLATFORM, uid, "")
        await self.adapter.send(turn_context, replies)

    async def _submit(self, turn_context: TurnContext, data: dict[str, Any]) -> None:
        activity = turn_context.activity
        uid, name = user_id(activity.from_property), activity.from_property.name
        if data["schoolbot"] == CHOICE:
            await self._remember_user(turn_context)
            replies = await self.service.run(
                self.service.handle_message,
                PLATFORM,
                uid,
                str(data.get("value") or ""),
                (),
                name,
                str(data.get("step") or "") or None,
            )
            await self.adapter.send(turn_context, replies)
            return
        text = data.get("text")
        replies = await self.service.run(
            self.service.handle_action,
            PLATFORM,
            uid,
            str(data.get("action") or ""),
            str(data.get("value") or ""),
            str(text) if text else None,
            name,
        )
        await self.adapter.tell(turn_context, replies)

    async def _channel(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        text = " ".join((TurnContext.remove_recipient_mention(activity) or "").split())
        match = CHOOSE.match(text)
        if not match:
            await self.adapter.send(turn_context, [Message(CHANNEL_HELP)])
            return
        channel = teams_get_channel_id(activity) or activity.conversation.id.split(";")[0]
        ref = TurnContext.get_conversation_reference(activity)
        ref.conversation.id = channel
        ref.activity_id = None
        reply = await self.service.run(
            store.choose_channel,
            self.service,
            user_id(activity.from_property),
            activity.from_property.name,
            match.group(1).lower(),
            ref.serialize(),
        )
        await self.adapter.send(turn_context, [Message(reply)])

    # --- installs: remember where we can reach people and channels ---------------------

    async def on_teams_members_added(  # type: ignore[override]
        self,
        teams_members_added: list[Any],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        activity = turn_context.activity
        bot_added = any(m.id == activity.recipient.id for m in teams_members_added)
        if not bot_added:
            return
        if team_info and team_info.id:
            await self._remember_channel(turn_context, team_info.id)
        elif activity.conversation.conversation_type == "personal":
            await self._remember_user(turn_context)
            uid = user_id(activity.from_property)
            await self.adapter.send(
                turn_context, await self.service.run(self.service.greet, PLATFORM, uid)
            )

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        team = (
            (activity.channel_data or {}).get("team")
            if isinstance(activity.channel_data, dict)
            else None
        )
        if team and team.get("id"):
            await self._remember_channel(turn_context, team["id"])
        elif activity.conversation.conversation_type == "personal":
            await self._remember_user(turn_context)

    async def _remember_user(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        ref = TurnContext.get_conversation_reference(activity)
        ref.activity_id = None
        key = f"user:{user_id(activity.from_property)}"
        await self.service.run(store.save, self.service, key, ref.serialize())

    async def _remember_channel(
        self, turn_context: TurnContext, channel: str | None = None
    ) -> None:
        activity = turn_context.activity
        channel = channel or teams_get_channel_id(activity)
        if not channel:
            return
        ref = TurnContext.get_conversation_reference(activity)
        ref.conversation.id, ref.activity_id, ref.user = channel, None, None
        await self.service.run(store.save, self.service, f"channel:{channel}", ref.serialize())
