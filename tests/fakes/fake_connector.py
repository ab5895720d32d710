"""A local fake of the Bot Connector service and its login service, over real HTTP.

It is the activities' `serviceUrl`: it records replies, proactive channel posts
(POST /v3/conversations) and card updates (PUT), and answers in the documented shapes
(ResourceResponse, ConversationResourceResponse), and deletes (DELETE, 200; an activity
already deleted is 404 NotFound, as Teams answers). It also plays Azure AD and the Bot
Framework token issuer: a client-credentials token endpoint, OpenID metadata and a JWKS
with a key generated here, so tests sign real RS256 tokens for inbound requests. Files:
pre-authenticated download URLs (Teams file attachments, one of which answers with a
sign-in page) and inline images that need the bot's token. It can fail the next calls
with 429 + Retry-After or a 5xx, like the real service, and can enforce Teams' documented
rate limits for bots (`TeamsLimits`). Like Teams, it refuses to open a personal chat
without the tenant (400 BadSyntax "Could not parse tenant id").

botbuilder validates tokens and fetches bot tokens with blocking `requests` calls on the
event loop, so the fake runs its own loop in a thread.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "00000000-0000-4000-8000-00000000b07a"
APP_PASSWORD = "test-app-password-not-real"
BOT_TOKEN = "fake-bot-token-not-real"
ISSUER = "https://api.botframework.com"
TENANT = "tenant-0001"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in to your account</title></head></html>"


@dataclass
class TeamsLimits:
    """Teams' rate limits for bots, enforced as documented ("Optimize your bot: rate
    limiting and best practices"): per bot per conversation, 7 messages in 1 s, 8 in 2 s,
    60 in 30 s and 1,800 in an hour; and 50 requests a second per app per tenant over all
    conversations. Over any: 429 with Retry-After, as the connector answers."""

    per_conversation: tuple[tuple[float, int], ...] = ((1, 7), (2, 8), (30, 60), (3600, 1800))
    per_tenant: tuple[tuple[float, int], ...] = ((1, 50),)
    retry_after: int = 1
    _sent: dict[str, deque[float]] = field(default_factory=dict)  # when each call was allowed

    def allow(self, conversation: str, now: float) -> bool:
        """One call to `conversation` now, if every window has room (a refused one uses none)."""
        windows = [("*", self.per_tenant), (conversation, self.per_conversation)]
        for key, limits in windows:
            times = self._sent.setdefault(key, deque())
            longest = max(seconds for seconds, _ in limits)
            while times and times[0] <= now - longest:
                times.popleft()
            for seconds, most in limits:
                if sum(1 for t in times if t > now - seconds) >= most:
                    return False
        for key, _ in windows:
            self._sent[key].append(now)
        return True


@dataclass
class Call:
    kind: str  # "send", "reply", "create", "update", "delete"
    conversation: str
    activity: dict[str, Any]
    activity_id: str | None = None  # the id we answered with, or the one updated
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    downloads: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)  # file downloads asked for, by name
    token_requests: int = 0
    key_requests: int = 0
    peers: list[int] = field(default_factory=list)  # the client port of each activity call
    holding: bool = False  # while True, activity calls wait (arrivals in `held`)
    held: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    key_id: str = field(default_factory=lambda: f"key-{uuid.uuid4().hex[:8]}")
    require_token: bool = True
    # A slow connector: while `slow` is set, replies and sends take `slow_seconds` to answer
    # (or until `slow` is cleared). `waiting` counts the calls it is holding.
    slow: threading.Event = field(default_factory=threading.Event)
    slow_seconds: float = 8.0
    waiting: int = 0
    # botbuilder caches OpenID metadata per URL for a day: a fresh path per fake.
    metadata_path: str = field(default_factory=lambda: f"/{uuid.uuid4().hex[:8]}/openid")
    # While set, the signing-keys endpoint doesn't answer (a stalled identity service).
    keys_stalled: threading.Event = field(default_factory=threading.Event)
    keys_asked: threading.Event = field(default_factory=threading.Event)  # one arrived
    limits: TeamsLimits | None = None  # enforce Teams' rate limits on sends and new threads
    limited: int = 0  # calls answered 429 by `limits`
    # Activities deleted (by the bot, or by a person in Teams): updating or deleting one
    # again is 404 NotFound. `locked`: activities Teams refuses to edit (400 BadArgument).
    deleted: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    # --- test helpers ------------------------------------------------------------------

    @property
    def settings(self) -> dict[str, str]:
        """Settings that point the bot's authentication at this fake."""
        return {
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": APP_PASSWORD,
            "MicrosoftAppTenantId": TENANT,
            "ToBotFromChannelOpenIdMetadataUrl": f"{self.base_url}{self.metadata_path}",
            "ToBotFromChannelTokenIssuer": ISSUER,
            "ToChannelFromBotLoginUrl": f"{self.base_url}/botframework.com",
            "ToChannelFromBotOAuthScope": "https://api.botframework.com",
        }

    def sign(self, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        """A channel token like the Bot Connector's; overrides forge its claims."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": self.base_url,
            "nbf": now - 10,
            "exp": now + 3600,
            **overrides,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.key_id})

    def fail_next(self, kind: str, status: int = 429, retry_after: int | None = None) -> None:
        """The next `kind` call fails with `status`; status 0 drops the connection unanswered."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self.failures[kind].append((status, headers))

    def called(self, kind: str | None = None, conversation: str | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if (kind is None or c.kind == kind)
                and (conversation is None or c.conversation.startswith(conversation))
            ]

    async def wait_for(
        self, kind: str | None, count: int = 1, conversation: str | None = None, timeout: float = 10
    ) -> list[Call]:
        """Wait until `count` matching calls arrived (alerts are sent by a background loop)."""
        deadline = time.monotonic() + timeout
        while len(self.called(kind, conversation)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {kind} call(s) to {conversation}; got "
                    f"{[(c.kind, c.conversation) for c in self.called()]}"
                )
            await asyncio.sleep(0.01)
        return self.called(kind, conversation)

    def download_url(self, name: str) -> str:
        return f"{self.base_url}/download/{name}"

    def image_url(self, name: str) -> str:
        return f"{self.base_url}/v3/attachments/{name}/views/original"

    # --- the service -------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        if not self.require_token:  # anonymous mode (the Emulator) sends no token
            return True
        return request.headers.get("Authorization") == f"Bearer {BOT_TOKEN}"

    async def _activities(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        conversation = request.match_info["conversation"]
        body = await request.json() if request.can_read_body else {}
        peer = request.transport.get_extra_info("peername") if request.transport else None
        with self._lock:
            self.peers.append(peer[1] if peer else 0)
            if self.holding:
                self.held.append(body)
        while self.holding:
            await asyncio.sleep(0.005)
        if request.method in ("PUT", "DELETE"):
            kind = "update" if request.method == "PUT" else "delete"
            answer_id = request.match_info["activity"]
            if answer_id in self.deleted:
                return web.json_response(
                    {"error": {"code": "NotFound", "message": "The activity was not found."}},
                    status=404,
                )
            if kind == "update" and answer_id in self.locked:
                return web.json_response(
                    {"error": {"code": "BadArgument", "message": "Unable to update."}},
                    status=400,
                )
        else:
            kind = "reply" if request.match_info.get("activity") else "send"
            answer_id = str(next(self._ids))
        if failure := self._failure(kind, request) or self._over_limit(conversation):
            return failure
        if kind == "update" and not self._posted(conversation, answer_id):
            # Only an activity the bot sent in that conversation can be updated.
            error = {"code": "NotFound", "message": "Activity not found in conversation"}
            return web.json_response({"error": error}, status=404)
        await self._maybe_slow()
        with self._lock:
            self.calls.append(Call(kind, conversation, body, answer_id))
            if kind == "delete":
                self.deleted.add(answer_id)
                return web.Response(status=200)
        return web.json_response({"id": answer_id})

    def _posted(self, conversation: str, activity_id: str) -> bool:
        with self._lock:
            return any(
                c.activity_id == activity_id
                and c.kind in ("send", "reply", "create")
                and c.conversation == conversation
                for c in self.calls
            )

    async def _maybe_slow(self) -> None:
        if not self.slow.is_set():
            return
        with self._lock:
            self.waiting += 1
        deadline = time.monotonic() + self.slow_seconds
        while self.slow.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # the fake's own loop, in its own thread

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        body = await request.json()
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        opening = channel or (body.get("members") or [{}])[0].get("id", "unknown")
        if failure := self._failure("create") or self._over_limit(f"create:{opening}"):
            return failure
        activity = body.get("activity")
        if channel and activity:  # a new thread in a team channel
            answer_id = str(next(self._ids))
            conversation = f"{channel};messageid={answer_id}"
            with self._lock:
                self.calls.append(Call("create", conversation, activity, answer_id, body))
            return web.json_response({"id": conversation, "activityId": answer_id})
        tenant = ((body.get("channelData") or {}).get("tenant") or {}).get("id") or body.get(
            "tenantId"
        )
        if not tenant:  # what Teams answers when the tenant is missing
            return web.json_response(
                {"error": {"code": "BadSyntax", "message": "Could not parse tenant id"}},
                status=400,
            )
        member = (body.get("members") or [{}])[0].get("id", "unknown")
        with self._lock:
            self.calls.append(Call("create", f"a:dm-{member}", {}, None, body))
        return web.json_response({"id": f"a:dm-{member}"})

    def _failure(self, kind: str, request: web.Request | None = None) -> web.Response | None:
        with self._lock:
            if not self.failures[kind]:
                return None
            status, headers = self.failures[kind].pop(0)
        if status == 0 and request is not None and request.transport:
            request.transport.close()  # the connection drops before any answer
        code = {429: "TooManyRequests", 403: "BotNotInConversationRoster", 404: "NotFound"}.get(
            status, "ServiceError"
        )
        return web.json_response(
            {"error": {"code": code, "message": "injected"}}, status=status, headers=headers
        )

    def _over_limit(self, conversation: str) -> web.Response | None:
        if self.limits is None:
            return None
        with self._lock:
            if self.limits.allow(conversation, time.monotonic()):
                return None
            self.limited += 1
        return web.json_response(
            {"error": {"code": "TooManyRequests", "message": "rate limited"}},
            status=429,
            headers={"Retry-After": str(self.limits.retry_after)},
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        with self._lock:
            self.token_requests += 1
        # Azure AD's answers: an unknown tenant, an app not registered there, a wrong secret.
        tenant = request.match_info["tenant"]
        if tenant not in (TENANT, "botframework.com"):
            return _aad_error(400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("client_id") != APP_ID:
            return _aad_error(
                400, "unauthorized_client", "AADSTS700016: Application not found in the directory."
            )
        if form.get("client_secret") != APP_PASSWORD:
            return _aad_error(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": BOT_TOKEN}
        )

    async def _metadata(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": f"{self.base_url}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        self.keys_asked.set()
        while self.keys_stalled.is_set():
            await asyncio.sleep(0.01)  # the fake's own loop, in its own thread
        with self._lock:
            self.key_requests += 1
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=self.key_id, use="sig", endorsements=["msteams"])
        return web.json_response({"keys": [jwk]})

    async def _download(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.fetched.append(name)
        if name not in self.downloads:
            return web.Response(body=LOGIN_PAGE, content_type="text/html")
        data, kind = self.downloads[name]
        return web.Response(body=data, content_type=kind)

    async def _image(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.Response(status=401)
        return await self._download(request)

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeConnector:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            route = "/v3/conversations/{conversation}/activities"
            app.router.add_post(route, self._activities)
            app.router.add_post(route + "/{activity}", self._activities)
            app.router.add_put(route + "/{activity}", self._activities)
            app.router.add_delete(route + "/{activity}", self._activities)
            app.router.add_post("/v3/conversations", self._create)
            app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
            app.router.add_get(self.metadata_path, self._metadata)
            app.router.add_get("/keys", self._keys)
            app.router.add_get("/download/{name}", self._download)
            app.router.add_get("/v3/attachments/{name}/views/original", self._image)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = self._runner.addresses[0][1]
            self.base_url = f"http://127.0.0.1:{port}"
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-connector", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def close(self) -> None:
        async def stop() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def _aad_error(status: int, error: str, description: str) -> web.Response:
    """Azure AD's OAuth error body (RFC 6749 section 5.2, plus its own codes)."""
    body = {"error": error, "error_description": description, "error_codes": [0]}
    return web.json_response(body, status=status)
