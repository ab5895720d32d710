"""Slack events -> BotService calls -> Block Kit replies. A translator, not a second flow.

Every listener only acks and queues the work (`IntakeQueue`), so bolt answers Slack at once,
well inside its 3 s limit, however much work is waiting. Inbound event ids are recorded
so Slack's retries and duplicates are handled once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.dispatch import BotService, Trust
from bot.domain.evidence import EvidenceFile
from bot.domain.messages import Message
from bot.domain.turns import ButtonPress, StaffMessage, TurnStatus
from bot.intake import guard
from bot.intake.journal import IntakeJournal
from bot.intake.lines import IntakeQueue, IntakeRecord
from bot.intake.spool import Spool
from bot.kernel.outbox import OPEN_WEB
from bot.platforms.school_loops import SchoolSendLoops
from bot.platforms.slack.blocks import (
    CHOICE_PREFIX,
    REASON_MODAL,
    home_view,
    reason_modal,
)
from bot.platforms.slack.door import SlackDoor
from bot.platforms.slack.files import download_all
from bot.platforms.slack.schools import SlackSchools, workspace_of
from bot.platforms.slack.sending import SlackReplies
from bot.platforms.slack.sends import SlackSendLoop
from bot.platforms.slack.settings import oauth_configured
from bot.platforms.slack.socket_mode import SocketMode

log = logging.getLogger(__name__)
PLATFORM = "slack"
FORM_FAILED = (
    "Sorry, Slack didn't open the form. Nothing has changed; please press the button again."
)
SLASH_COMMAND = "/socialmedia"
SHORTCUT = "schoolbot_start"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def _step(action_id: str) -> str | None:
    """The question an answer button belongs to: "choice:<step id>:<n>" -> "<step id>"."""
    return action_id.removeprefix(CHOICE_PREFIX).rsplit(":", 1)[0] or None


class SlackAdapter:
    APP_KEY: web.AppKey[SlackAdapter] = web.AppKey("slack_adapter")

    def __init__(self, trust: Trust, settings: Settings):
        """Every school's requests, each handled by its school's service: the school of
        the workspace's install with OAuth; the first school with one bot token."""
        self.trust = trust
        service = self.service = trust.first  # for what every school shares (the buttons)
        secret = settings.slack_signing_secret
        self.secret = secret.get_secret_value() if secret else ""
        channels = {"dsl": settings.slack_dsl_channel, "slt": settings.slack_slt_channel}
        # process_before_response: bolt answers as soon as a listener returns, instead of
        # polling every 10 ms for its ack; our listeners return once the work is queued.
        # Signatures are checked by our door on the raw bytes, before anything parses them
        # (bolt's own check parses first and logs a refused request's whole body).
        self.schools: SlackSchools | None = None
        if oauth_configured(settings):
            # One click per school: each request's token comes from its workspace's install.
            self.token = ""
            self.schools, self.app = SlackSchools.build(
                service.kernel, settings, channels, kernel_for=self._kernel_for
            )
        else:
            assert settings.slack_bot_token and (
                settings.slack_signing_secret or settings.slack_app_token
            )
            self.token = settings.slack_bot_token.get_secret_value()
            # Bolt builds the Web API client from our token (given a client too, it warns
            # that the SLACK_BOT_TOKEN it reads from the environment "will be unused").
            self.app = AsyncApp(
                signing_secret=self.secret,
                token=self.token,
                process_before_response=True,
                request_verification_enabled=False,
            )
        self.client: AsyncWebClient = self.app.client
        self.client.base_url = settings.slack_api_url
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self.app.error(self._listener_failed)
        replays = guard.Replays(
            service.intake.first_request,
            service.intake.recent_request_ids,
            shared_database=service.engine.dialect.name != "sqlite",
        )
        self.door = SlackDoor(self.secret, replays)
        spool = Spool(settings.data_dir, "slack-requests")  # see intake/spool.py
        self.work = IntakeQueue("slack", journal=IntakeJournal(service.intake, PLATFORM, spool))
        app_token = settings.slack_app_token
        self.socket = (
            SocketMode(self.app, app_token.get_secret_value(), self.client) if app_token else None
        )
        # Queued alerts get their own client: a 429 is rescheduled in the outbox rather than
        # slept through, so one rate-limited channel doesn't hold up everything else.
        router = self.schools.route if self.schools else None
        api_url = settings.slack_api_url
        self.school_sends = SchoolSendLoops(
            trust,
            lambda school: SlackSendLoop(
                school.kernel,
                AsyncWebClient(token=self.token, base_url=api_url),
                channels,
                router=router,
            ),
        )
        self.school_sends.started_hooks.append(self._pooled)
        self.sends = self.school_sends.for_school(service.work.school_id)  # the first's
        self.replies = SlackReplies(service, self.client, self.sends)
        self._http: aiohttp.ClientSession | None = None
        self._register()

    # --- HTTP mode -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        admitted = await self.door.admit(request)  # signature first, then shape; replays
        if isinstance(admitted, web.Response):
            return admitted
        try:
            response = await self.app.async_dispatch(admitted)
        except Exception as exc:  # bolt's own error path met a field it reads unchecked
            log.error("Slack: a request could not be handled: %s", guard.where(exc))
            return web.json_response({"error": "malformed payload"}, status=400)
        return await to_aiohttp_response(response)

    async def _listener_failed(self, error: Exception) -> BoltResponse:
        """A listener met a payload it can't use: a short line (no body, no traceback, since
        either can quote what staff wrote) and a 400, never a 500."""
        log.error("Slack: a request could not be handled: %s", guard.where(error))
        return BoltResponse(status=400, body="")

    @property
    def mode(self) -> str:
        return "Socket Mode" if self.socket else "HTTP mode"

    def mount(self, app: web.Application) -> None:
        if self.socket is None:
            app.router.add_post("/slack/events", self.handle)
        if self.schools is not None:
            self.schools.mount(app)
            self.schools.installed_hooks.append(self.school_sends.kick)
        app[self.APP_KEY] = self

        async def lifecycle(_app: web.Application):
            # One pooled HTTP session for every Web API call and download: without it the SDK
            # opens (and closes) a new connection per call, which costs more than our work.
            self._http = aiohttp.ClientSession()
            self.client.session = self._http
            if self.schools is not None:
                self.schools.http = self._http
            await self.school_sends.start()
            await self.work.start()
            if self.socket is not None:
                await self.socket.start()
            yield
            try:
                if self.socket is not None:
                    await self.socket.stop()
                await self.work.stop()
                await self.school_sends.stop()
                self.door.replays.close()
            finally:  # a second Ctrl+C while stopping still closes the connections
                await self._http.close()

        app.cleanup_ctx.append(lifecycle)

    # --- handlers --------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_home_opened")(self._on_home)
        app.action(re.compile(rf"^{re.escape(CHOICE_PREFIX)}"))(self._on_choice)
        # Record buttons are the registry's (every feature's), plus the workspace link.
        actions = sorted({*self.service.kernel.registry.buttons, OPEN_WEB})
        record_button = re.compile("^(?:" + "|".join(map(re.escape, actions)) + ")$")
        app.action(record_button)(self._on_record_button)
        app.view(REASON_MODAL)(self._on_reason)
        app.command(SLASH_COMMAND)(self._on_command)
        app.shortcut(SHORTCUT)(self._on_shortcut)
        if self.schools is not None:
            self.schools.register(app)
        for kind, fn in {
            "message": self._message,
            "choice": self._choice,
            "button": self._record_button,
            "reason": self._record_button,
            "start": self._start,
            "home": self._home,
        }.items():
            self.work.handler(kind, fn)

    # Listeners: each queues a small JSON payload with just what its work needs (it is
    # recorded until done) and returns. Bolt acks events itself; the rest ack here.

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        if event.get("subtype") not in (None, "file_share"):
            return
        files = [
            {k: f.get(k) for k in ("name", "mimetype", "url_private_download", "url_private")}
            for f in event.get("files") or []
        ]
        payload = {
            "user": event["user"],
            "channel": event["channel"],
            "text": event.get("text") or "",
            "files": files,
            "key": f"slack:{body.get('event_id')}",
            **workspace_of(context, body),
        }
        await self.work.submit(event["user"], "message", payload)

    async def _on_choice(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
    ) -> None:
        await ack()
        payload = self._button(body, action, context)
        container, message = body.get("container") or {}, body.get("message") or {}
        on_message = container.get("type") == "message" and not container.get("is_ephemeral")
        if on_message and message.get("blocks"):
            # Where the question was, so it can show the answer and lose its buttons.
            payload["question"] = {
                "channel": container.get("channel_id") or payload["channel"],
                "ts": container.get("message_ts") or message.get("ts"),
                "text": message.get("text") or "",
                "blocks": message["blocks"],
                "label": (action.get("text") or {}).get("text") or "",
                "step": _step(action["action_id"]),
            }
        await self.work.submit(body["user"]["id"], "choice", payload)

    async def _on_record_button(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
    ) -> None:
        await ack()
        if self.service.form_for(action["action_id"]):  # the trigger lasts 3 s: don't queue
            self.work.urgent(self._ask_reason, body, action, workspace_of(context, body))
        else:
            payload = self._button(body, action, context)
            await self.work.submit(body["user"]["id"], "button", payload)

    async def _on_reason(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
    ) -> None:
        values = view["state"]["values"]
        text = (values.get("reason", {}).get("text", {}) or {}).get("value") or ""
        message = (values.get("message", {}).get("text", {}) or {}).get("value") or None
        if not text.strip():
            await ack(response_action="errors", errors={"reason": "Please write a few words."})
            return
        await ack()
        meta = guard.json_object(view.get("private_metadata"))
        payload = {
            "user": body["user"]["id"],
            "channel": meta.get("channel"),
            "action": meta.get("action", ""),
            "value": meta.get("value", ""),
            "text": text,
            "message": message,
            **workspace_of(context, body),
        }
        await self.work.submit(body["user"]["id"], "reason", payload)

    async def _on_command(
        self, ack: Any, command: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        await ack()
        text = (command.get("text") or "").strip()
        payload = {"user": command["user_id"], "text": text, **workspace_of(context, body)}
        await self.work.submit(command["user_id"], "start", payload)

    async def _on_shortcut(
        self, ack: Any, shortcut: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        await ack()
        user = shortcut["user"]["id"]
        await self.work.submit(user, "start", {"user": user, **workspace_of(context, body)})

    async def _on_home(
        self, event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        if event.get("tab") == "home":
            payload = {"user": event["user"], **workspace_of(context, body)}
            await self.work.submit(event["user"], "home", payload)

    @staticmethod
    def _button(
        body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "user": body["user"]["id"],
            "channel": (body.get("channel") or {}).get("id"),
            "action": action["action_id"],
            "value": action.get("value", ""),
            **workspace_of(context, body),
        }

    def _kernel_for(self, school_id: int) -> Any:
        return self.trust.service_for(school_id).kernel

    def _pooled(self, loop: SlackSendLoop) -> None:
        """A school's send loop uses the one HTTP connection pool."""
        loop.client.session = self._http

    async def _replies_for(self, p: dict[str, Any]) -> tuple[BotService, SlackReplies, str]:
        """Who handles a queued request and how to answer it: the school of its workspace's
        install, with that install's bot token, when Slack is installed per school (a
        token refreshed meanwhile is the new one); else the first school."""
        if self.schools is None:
            return self.service, self.replies, self.token
        access = await self.schools.access_for(p)
        token = access.bot_token if access else None
        school = access.school_id if access else p.get("school")
        # A school added since the last tick is built here: off the event loop.
        service = self.trust.known(school)
        if service is None:
            service = await asyncio.to_thread(self.trust.service_for, school)
        sends = self.school_sends.loops.get(service.work.school_id, self.sends)
        return service, SlackReplies(service, self.schools.client_for(token), sends), token or ""

    # --- the work, after the ack -----------------------------------------------------------

    async def _message(self, p: dict[str, Any], request: IntakeRecord) -> None:
        user, channel, key, shared = p["user"], p["channel"], p["key"], p["files"]
        service, replies, token = await self._replies_for(p)
        if request.kept is not None:  # done before a crash; only the replies weren't sent
            await replies.post_all(channel, user, request.kept.replies, request)
            return
        # The event id is recorded inside the turn, so a retry or a rerun after a crash is
        # handled exactly once (a rerun must not be taken for a duplicate before its turn).
        refusal = await service.work.run(service.upload_refusal, PLATFORM, user) if shared else None
        files: tuple[EvidenceFile, ...] = ()
        if refusal:  # not a byte is fetched: nothing of it reaches the disk or the database
            refusals = [refusal]
        else:
            files, refusals = await download_all(service, self._http, token, shared)
        if refusals:
            await replies.post_all(channel, user, [Message(text) for text in refusals])
        message = StaffMessage(
            PLATFORM,
            user,
            p["text"],
            tuple(files),
            name=mention(user),
            request_id=key,
            intake_id=request.id,
            sent_at=request.rerun_of,
            files_refused=bool(refusals),
        )
        result = await service.work.run(service.receive, message)
        if result.status is TurnStatus.REPEAT:
            log.info("duplicate Slack event ignored")
            return
        await replies.close_question(user, result)  # answered in words: no buttons left
        await replies.post_all(channel, user, result.replies, request)

    async def _choice(self, p: dict[str, Any], request: IntakeRecord) -> None:
        user, channel = p["user"], p["channel"] or p["user"]
        service, replies, _ = await self._replies_for(p)
        result = request.kept  # set if done before a crash; only the replies weren't sent
        if result is None:
            message = StaffMessage(
                PLATFORM,
                user,
                p["value"],
                name=mention(user),
                answering=_step(p["action"]),
                intake_id=request.id,
            )
            result = await service.work.run(service.receive, message)
        await replies.close_question(user, result, p.get("question"))
        if result.status is TurnStatus.STALE and channel.startswith(("D", "C", "G")):
            # A button from an answered question or an earlier report: a note only they see.
            await replies.ephemeral(channel, user, result.replies[:1])
            await replies.post_all(channel, user, result.replies[1:], request)
            return
        await replies.post_all(channel, user, result.replies, request)

    async def _ask_reason(
        self, body: dict[str, Any], action: dict[str, Any], where: dict[str, Any]
    ) -> None:
        service, replies, _ = await self._replies_for(where)
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        name, value = action["action_id"], action.get("value", "")
        form = self.service.form_for(name) or {}
        refusal = await service.work.run(service.refusal_for, PLATFORM, user, name, value)
        if refusal:
            await replies.tell(channel, user, [Message(refusal)])
            return
        ts = (body.get("message") or {}).get("ts")
        opened = await replies.call(
            "views_open",
            trigger_id=body["trigger_id"],
            view=reason_modal(
                form["asks_for"],
                name,
                value,
                channel,
                ts,
                also_asks=form.get("also_asks"),
                hint=form.get("hint"),
            ),
        )
        if not opened:  # the trigger lasts 3 s; a retry must be a fresh click
            await replies.tell(channel, user, [Message(FORM_FAILED)])

    async def _record_button(self, p: dict[str, Any], request: IntakeRecord) -> None:
        """A case, approval or comment button; also the text from the reason modal."""
        user = p["user"]
        service, replies, _ = await self._replies_for(p)
        result = request.kept
        if result is None:
            press = ButtonPress(
                PLATFORM,
                user,
                p["action"],
                p["value"],
                p.get("text"),
                p.get("message"),
                name=mention(user),
                intake_id=request.id,
            )
            result = await service.work.run(service.press, press)
        await replies.tell(p["channel"], user, result.replies, request)

    async def _start(self, p: dict[str, Any], request: IntakeRecord) -> None:
        """The slash command (with or without text) and the shortcut."""
        user = p["user"]
        service, answer, _ = await self._replies_for(p)
        if request.kept is not None:
            replies = request.kept.replies
        elif p.get("text"):
            message = StaffMessage(
                PLATFORM, user, p["text"], name=mention(user), intake_id=request.id
            )
            replies = (await service.work.run(service.receive, message)).replies
        else:
            replies = await service.work.run(service.greet, PLATFORM, user)
        await answer.post_all(user, user, replies, request)

    async def _home(self, p: dict[str, Any], _: IntakeRecord) -> None:
        service, replies, _token = await self._replies_for(p)
        lines = await service.work.run(service.case_lines, PLATFORM, p["user"])
        menu = service.kernel.registry.menu()
        start = [c for c in menu if c.value not in service.kernel.registry.commands]
        cases = service.outbox.with_web_button(Message(" "))
        await replies.call("views_publish", user_id=p["user"], view=home_view(lines, start, cases))
