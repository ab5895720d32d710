"""Teams activities -> BotService calls -> Adaptive Card replies. A translator, not a second flow.

POST /api/messages is checked here before botbuilder sees it: JSON with the right
Content-Type (else 400), a valid Bot Framework token (else 401; unsigned requests only in
anonymous mode on loopback). Each turn replies while the request is open, as Bot Framework
expects; alerts and DMs go through the outbox (TeamsSendLoop). A repeated activity id is
handled once. People are identified by their Entra object id (`aadObjectId`), which is the
same for every bot, falling back to the Teams user id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import requests
import sqlalchemy as sa
from aiohttp import web
from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, InvokeResponse
from botbuilder.schema.teams import TeamInfo
from botframework.connector.models import ErrorResponseException

from bot.config import Settings
from bot.dispatch import BotService, Trust
from bot.dispatch.service import DB_DOWN
from bot.domain.evidence import EvidenceFile
from bot.domain.messages import Message
from bot.domain.turns import ButtonPress, StaffMessage, TurnResult, TurnStatus
from bot.intake import guard
from bot.platforms.school_loops import SchoolSendLoops
from bot.platforms.teams import channel_words, door, invoke, live_cards, presses, store, turn_school
from bot.platforms.teams.auth import build_authentication
from bot.platforms.teams.button_seal import ButtonSeal
from bot.platforms.teams.cards import ACTION, CHOICE, TYPE_OTHER, choice_text
from bot.platforms.teams.connector import SEND_SECONDS
from bot.platforms.teams.files import TeamsFiles, has_files
from bot.platforms.teams.installs import Installs, user_id
from bot.platforms.teams.sends import (
    TeamsSendLoop,
    http_status,
    member_record,
    reference,
    to_activity,
)
from bot.platforms.teams.tenants import TenantAllowList, loggable
from bot.platforms.teams.turns import ConversationTurns, request_key

log = logging.getLogger(__name__)
PLATFORM = "teams"
SEND_RETRIES = 2
TURN_FAILED = (
    "Sorry, something went wrong and I couldn't finish that. Please try again in a minute."
)


class TeamsAdapter:
    APP_KEY: web.AppKey[TeamsAdapter] = web.AppKey("teams_adapter")

    def __init__(self, trust: Trust, settings: Settings, *, anonymous: bool = False):
        """Every school's activities, each handled by its school's service (turn_school)."""
        self.trust = trust
        service = trust.first
        self.anonymous = anonymous
        self._http: aiohttp.ClientSession | None = None
        self.auth, self.app_id = build_authentication(settings, self.http, anonymous=anonymous)
        self.tenants = TenantAllowList.from_settings(settings, anonymous=anonymous)
        self.seal = ButtonSeal.from_settings(settings)
        self.cloud = CloudAdapter(self.auth)
        self.turns = ConversationTurns()
        self.school_cards: dict[int, live_cards.QuestionCards] = {}
        self.files = TeamsFiles(service.kernel, self.http)
        channels = {"dsl": settings.teams_dsl_channel, "slt": settings.teams_slt_channel}

        def send_loop(school: BotService) -> TeamsSendLoop:
            loop = TeamsSendLoop(school.kernel, self.cloud, self.app_id, channels, seal=self.seal)
            loop.keep_question = self.cards_for(school).keep  # reminders ask questions too
            return loop

        self.school_sends = SchoolSendLoops(trust, send_loop)
        self.sends = self.school_sends.for_school(service.work.school_id)  # the first's
        self.bot = SchoolBot(self)

    @property
    def service(self) -> BotService:
        """The service of the school this turn is for; the first school's outside a turn."""
        turn = turn_school.CURRENT.get()
        return turn.service if turn is not None else self.trust.first

    def cards_for(self, school: BotService) -> live_cards.QuestionCards:
        """A school's kept question cards (written in its own school's session)."""
        key = school.work.school_id
        if key not in self.school_cards:
            self.school_cards[key] = live_cards.QuestionCards(school.kernel)
        return self.school_cards[key]

    @property
    def cards(self) -> live_cards.QuestionCards:
        return self.cards_for(self.service)

    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle)
        app[self.APP_KEY] = self

        async def lifecycle(_app: web.Application):
            await self.school_sends.start()
            yield
            await self.school_sends.stop()
            for cards in list(self.school_cards.values()):
                await cards.stop()
            if self._http is not None:
                await self._http.close()

        app.cleanup_ctx.append(lifecycle)

    async def handle(self, request: web.Request) -> web.Response:
        admitted = await door.admit(
            request, anonymous=self.anonymous
        )  # size, shape, before the token
        if isinstance(admitted, web.Response):
            return admitted
        try:
            result = await self.auth.authenticate_request(
                admitted, request.headers.get("Authorization")
            )
        except Exception as exc:  # PermissionError, a bad signature, unknown key, ...
            log.info("Teams: request refused: %s", type(exc).__name__)
            return web.json_response({"error": "unauthorized"}, status=401)
        if not self.tenants.admits(admitted):  # before any turn, state or write
            log.warning("Teams: activity from tenant %s refused (403)", loggable(admitted))
            return web.json_response({"error": "forbidden"}, status=403)
        school = await self._school_of(admitted)
        current = turn_school.CURRENT.set(school)
        try:
            async with self.turns.one_at_a_time(admitted.conversation.id):
                invoke = await self.cloud.process_activity(result, admitted, self._turn)
        finally:
            turn_school.CURRENT.reset(current)
            self.school_sends.kick()
        return door.answer(invoke)

    async def _school_of(self, activity: Activity) -> turn_school.TurnSchool:
        """The school this activity is for; the first school's while the database is down
        (the turn then says so itself)."""
        try:
            return await asyncio.to_thread(turn_school.find, self.trust, self.seal, activity)
        except sa.exc.SQLAlchemyError as exc:
            log.error("Teams: can't tell the school yet (%s)", type(exc).__name__)
            first = self.trust.first
            return turn_school.TurnSchool(first, frozenset({first.work.school_id}))

    async def _turn(self, context: TurnContext) -> None:
        """An inbound turn. One that raises gets one short line (no traceback: it can quote
        names and conversation references) and a kind word to the person, not a 500.
        (Not botbuilder's on_turn_error: that would also swallow the errors of proactive
        sends, which the outbox needs to see to retry them.)"""
        try:
            await self.bot.on_turn(context)
        except Exception as error:
            await self._turn_failed(context, error)

    async def _turn_failed(self, context: TurnContext, error: Exception) -> None:
        log.error("Teams: a turn failed: %s", guard.where(error))
        text = DB_DOWN if isinstance(error, sa.exc.SQLAlchemyError) else TURN_FAILED
        try:
            await context.send_activity(text)
        except Exception as exc:
            log.error("Teams: could not say so either: %s", type(exc).__name__)

    # --- helpers used by the handler -------------------------------------------------------

    async def send(
        self, context: TurnContext, messages: list[Message], school: int | None = None
    ) -> list[Message]:
        """Reply in this conversation; a 429 or 5xx is retried a couple of times. Buttons
        are sealed for `school` (default: the turn's). Returns what could not be sent
        (logged), so a caller can queue it instead."""
        chosen = school or presses.school_of(context)

        def sign(data: dict[str, Any]) -> dict[str, Any]:
            return self.seal.seal(data, chosen)

        for index, message in enumerate(messages):
            deadline = time.monotonic() + SEND_SECONDS  # each reply, retries included
            for attempt in range(SEND_RETRIES + 1):
                try:
                    activity = to_activity(message, sign)
                    sent = await context.send_activity(activity)
                    self._keep_question(context, message, activity, sent)
                    break
                except ErrorResponseException as exc:
                    status, headers = http_status(exc)
                    wait = min(float(headers.get("Retry-After", "1") or 1), 5)
                    if (
                        attempt == SEND_RETRIES
                        or not (status == 429 or status >= 500)
                        or time.monotonic() + wait > deadline
                    ):
                        log.error("Teams reply failed: HTTP %s", status)
                        return messages[index:]
                    await asyncio.sleep(wait)
        return []

    async def tell(self, context: TurnContext, messages: list[Message]) -> None:
        """Private replies to a button pressed in a channel: in the person's personal chat,
        opened for them if they never chatted with the bot. Whatever can't be sent now is
        queued in the outbox (which keeps trying) rather than failing the request, because
        Teams would redeliver it and a redelivery is ignored as a duplicate."""
        activity = context.activity
        if activity.conversation.conversation_type == "personal" or not messages:
            await self.send(context, messages)
            return
        uid = user_id(activity.from_property)
        school = presses.school_of(context)
        unsent = messages
        try:
            saved = await self.service.work.run(store.load, self.service.kernel, f"user:{uid}")
            if saved:
                ref = reference(saved)
            else:
                member = member_record(activity)
                await self.service.work.run(
                    store.save, self.service.kernel, f"member:{uid}", member
                )
                ref = await self.sends.open_chat(uid, member)

            async def later(ctx: TurnContext) -> None:
                nonlocal unsent
                unsent = await self.send(ctx, messages, school)

            await self.cloud.continue_conversation(ref, later, self.sends.bot_id)
        except ErrorResponseException as exc:
            log.warning("Teams: couldn't open a personal chat (HTTP %s)", http_status(exc)[0])
        except (aiohttp.ClientError, requests.RequestException, OSError, TimeoutError) as exc:
            log.warning("Teams: couldn't reach a personal chat (%s)", type(exc).__name__)
        except PermissionError:  # the login service refused our token; auth.py logged why
            pass
        if unsent:
            log.info("Teams: %d private replies queued for the outbox", len(unsent))
            await self.service.work.run(self.service.intake.queue_replies, PLATFORM, uid, unsent)

    def _keep_question(
        self, context: TurnContext, message: Message, activity: Activity, sent: Any
    ) -> None:
        """A question card in a personal chat is kept until answered (see live_cards)."""
        if not (message.choices and activity.attachments and sent and sent.id):
            return
        if context.activity.conversation.conversation_type != "personal":
            return
        uid = user_id(context.activity.from_property)
        self.cards.keep(uid, sent.id, activity.attachments[0].content, message.step or "")

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
        self.installs = Installs(lambda: adapter.service, adapter.send, adapter.sends.channels)

    @property
    def service(self) -> BotService:
        return self.adapter.service

    async def on_teams_members_added(
        self, members: list[Any], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        await self.installs.members_added(members, team_info, turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.installs.installed(turn_context)

    async def first_time(self, turn_context: TurnContext) -> bool:
        """False for an activity Teams already delivered (a retry): it is handled once."""
        return await self.service.work.run(self.first_time_now, turn_context.activity)

    def first_time_now(self, activity: Activity) -> bool:
        if not (key := request_key(activity)):
            return True
        if self.service.intake.first_request(key):
            return True
        log.info("duplicate Teams activity ignored")
        return False

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        kind = activity.conversation.conversation_type
        data = activity.value if isinstance(activity.value, dict) else None
        if data is not None and (refused := await self.refusal(turn_context, data)):
            await self.adapter.tell(turn_context, [Message(refused)])
            return
        choice = data is not None and data.get("schoolbot") == CHOICE
        if kind == "personal" and (not data or choice) and not has_files(activity.attachments):
            # The usual turns, a typed message or a choice pressed: one worker-thread hop
            # for the chat reference, the duplicate check and the dialog step together.
            if data:
                text, step = choice_text(data), str(data.get("step") or "") or None
                if text is None:  # "Other" picked, nothing typed in its box
                    await self.adapter.send(turn_context, [Message(TYPE_OTHER)])
                    return
            else:
                text, step = activity.text or "", None
            result = await self.service.work.run(self._step_now, activity, text, step)
            if result is None:
                return
            uid = user_id(activity.from_property)
            await live_cards.close(self.adapter.cards, turn_context, uid, result)
            await self.adapter.send(turn_context, result.replies)
            return
        if not await self.first_time(turn_context):
            return
        if data and data.get("schoolbot") in (CHOICE, ACTION):
            await self._submit(turn_context, data)
        elif kind == "personal":
            await self.installs.remember_user(turn_context)
            await self._personal(turn_context)
        elif kind == "channel":
            await self.installs.remember_channel(turn_context)
            await channel_words.answer(self.adapter, turn_context)
        else:
            await self.adapter.send(
                turn_context, [Message("Please message me in a personal chat.")]
            )

    def _step_now(self, activity: Activity, text: str, step: str | None) -> TurnResult | None:
        """A personal chat's turn, on a worker thread; None for a duplicate. The duplicate
        check is recorded in the dialog step's own transaction (one commit, not two)."""
        self.installs.remember_user_now(activity)
        uid, name = user_id(activity.from_property), activity.from_property.name
        key = request_key(activity)
        message = StaffMessage(PLATFORM, uid, text, name=name, answering=step, request_id=key)
        result = self.service.receive(message)
        if result.status is TurnStatus.REPEAT:
            log.info("duplicate Teams activity ignored")
            return None
        return result

    async def _personal(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        uid, name = user_id(activity.from_property), activity.from_property.name
        refusal = None
        if has_files(activity.attachments):
            refusal = await self.service.work.run(self.service.upload_refusal, PLATFORM, uid)
        files: tuple[EvidenceFile, ...] = ()
        if refusal:  # not a byte is fetched: nothing of it reaches the disk or the database
            refusals = [refusal]
        else:
            files, refusals = await self.adapter.files.fetch_all(
                activity.attachments,
                activity.service_url,
                lambda: self.adapter.token(turn_context),
            )
        replies = [Message(text) for text in refusals]
        message = StaffMessage(
            PLATFORM, uid, activity.text or "", tuple(files), name, files_refused=bool(refusals)
        )
        result = await self.service.work.run(self.service.receive, message)
        await live_cards.close(self.adapter.cards, turn_context, uid, result)
        await self.adapter.send(turn_context, replies + result.replies)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name == invoke.CARD_ACTION:
            return await invoke.card_action(self, turn_context)
        return await super().on_invoke_activity(turn_context)

    async def submit(self, turn_context: TurnContext, data: dict[str, Any]) -> str | None:
        """A card button's data from an invoke: what Teams shows by the card (a stale
        button's note, or where the reply is), or None if the data isn't ours."""
        if data.get("schoolbot") not in (CHOICE, ACTION):
            return None
        if refused := await self.refusal(turn_context, data):
            return refused
        return await self._submit(turn_context, data, invoked=True)

    async def refusal(self, turn_context: TurnContext, data: dict[str, Any]) -> str | None:
        """Why a pressed button may not act (not signed by us, another school's), or None
        (also for data that isn't a button of ours)."""
        return await presses.refusal(self.service, self.adapter.seal, turn_context, data)

    async def _submit(
        self, turn_context: TurnContext, data: dict[str, Any], *, invoked: bool = False
    ) -> str | None:
        """A card button's data; returns the note for a stale answer button, which an
        invoke shows by the card instead of in the chat."""
        activity = turn_context.activity
        uid, name = user_id(activity.from_property), activity.from_property.name
        if data["schoolbot"] == CHOICE:
            await self.installs.remember_user(turn_context)
            text = choice_text(data)
            if text is None:
                await self.adapter.tell(turn_context, [Message(TYPE_OTHER)])
                return None
            choice = StaffMessage(
                PLATFORM, uid, text, name=name, answering=str(data.get("step") or "") or None
            )
            result = await self.service.work.run(self.service.receive, choice)
            await live_cards.close(self.adapter.cards, turn_context, uid, result)
            replies = result.replies
            if invoked and result.status is TurnStatus.STALE and replies:
                await self.adapter.send(turn_context, replies[1:])
                return replies[0].text
            await self.adapter.send(turn_context, replies)
            return None
        text, message = data.get("text"), data.get("message")
        press = ButtonPress(
            PLATFORM,
            uid,
            str(data.get("action") or ""),
            str(data.get("value") or ""),
            str(text) if text else None,
            str(message) if message else None,
            name=name,
        )
        result = await self.service.work.run(self.service.press, press)
        await self.adapter.tell(turn_context, result.replies)
        return None
