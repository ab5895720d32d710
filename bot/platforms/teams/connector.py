"""Our connector path: one cached ConnectorClient per (app id, audience, service URL), all
on one aiohttp session that opens and closes with the app.

Stock botbuilder builds two msrest clients per turn (a ConnectorClient and a user-token
client, about 3 ms of CPU each), and msrest's default sender opens a new `requests`
session, so a new TCP (and TLS) connection, for every reply, on a worker thread. Here a
turn and a proactive send reuse the same client and its keep-alive connection, and the
bytes go out on the event loop. msrest's own AioHTTPSender can't be used instead: it
passes neither the request's headers nor its body to aiohttp.

A turn's three calls (reply, send to a conversation, update a card) skip msrest altogether
(DirectConversations): the same URL, headers and JSON body, straight onto the session.

Sending: a connection error (the connection dropped, refused) is retried once; the whole
send, retry included, is bounded by SEND_SECONDS so a turn fits in Bot Framework's 15 s.
A 429 or 5xx comes back as ErrorResponseException, as before, and the callers retry it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ConnectorFactory, ServiceClientCredentialsFactory
from botframework.connector.auth._connector_factory_impl import USER_AGENT
from botframework.connector.auth.user_token_client import UserTokenClient
from botframework.connector.models import ErrorResponseException, ResourceResponse
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline, Request, Response
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.aiohttp import AioHttpClientResponse

from bot.platforms.teams.wire import FastBody, to_wire

SEND_SECONDS = 10.0
CONNECTION_RETRIES = 1


class AiohttpSender(AsyncHTTPSender):
    """The last step of msrest's pipeline: the request on our shared aiohttp session."""

    def __init__(self, session: Callable[[], aiohttp.ClientSession]):
        self._session = session

    async def __aenter__(self) -> AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None  # the session belongs to the app, not to one client

    def build_context(self) -> Any:
        return None

    async def send(self, request: Request, **config: Any) -> Response:
        http = request.http_request  # msrest's ClientRequest: method, url, headers, data
        answer = await exchange(self._session(), http.method, http.url, http.headers, http.data)
        response = AioHttpClientResponse(http, answer)
        await response.load_body()  # aiohttp kept the body it read: no second read
        return Response(request, response)


async def exchange(
    session: aiohttp.ClientSession, method: str, url: str, headers: Any, data: Any
) -> aiohttp.ClientResponse:
    """One HTTP call with its body read; a dropped connection is tried once more, and the
    whole call, retry included, ends within SEND_SECONDS."""
    deadline = time.monotonic() + SEND_SECONDS
    for attempt in range(CONNECTION_RETRIES + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the Bot Connector did not answer in time")
        try:
            answer = await session.request(
                method,
                url,
                headers=dict(headers),
                data=data,
                timeout=aiohttp.ClientTimeout(total=remaining),
            )
            await answer.read()  # the body is kept: msrest's deserializer reads it later
            return answer
        except aiohttp.ClientConnectionError as exc:
            if attempt == CONNECTION_RETRIES or isinstance(exc, asyncio.TimeoutError):
                raise
    raise AssertionError("unreachable")


async def bearer_token(credentials: Any) -> str | None:
    """The bot's token (None in anonymous mode). Our client-secret credentials hand out a
    cached token without blocking; any other kind is asked on a worker thread."""
    if not getattr(credentials, "microsoft_app_id", None):
        return None
    cached = getattr(credentials, "cached_token", None)
    token = cached() if cached else None
    if token is None:
        token = await asyncio.to_thread(credentials.get_access_token)
    return str(token)


class BearerPolicy(AsyncHTTPPolicy):
    """The bot's token on each call (none in anonymous mode). Our client-secret credentials
    hand out a cached token without blocking; any other kind is asked on a worker thread."""

    def __init__(self, credentials: Any):
        super().__init__()
        self._credentials = credentials

    async def send(self, request: Request, **kwargs: Any) -> Response:
        token = await bearer_token(self._credentials)
        if token:
            request.http_request.headers["Authorization"] = f"Bearer {token}"
        else:
            request.http_request.headers.pop("Authorization", None)
        assert self.next is not None, "an AsyncPipeline links each policy to the next"
        return await self.next.send(request, **kwargs)


class ConnectorPool:
    """Connector clients by (app id, audience, service URL), kept for the app's lifetime."""

    def __init__(self, session: Callable[[], aiohttp.ClientSession]):
        self._session = session
        self._clients: dict[tuple[str | None, str | None, str], ConnectorClient] = {}

    def factory(self, stock: ConnectorFactory) -> ConnectorFactory:
        """Our factory in place of the one botbuilder made for a turn or proactive send."""
        return _PooledFactory(self, stock)

    async def client(
        self, stock: ConnectorFactory, service_url: str, audience: str | None
    ) -> ConnectorClient:
        # botbuilder internal: its _ConnectorFactoryImpl keeps the app id, default audience,
        # login endpoint and credentials factory it was built with in these attributes.
        app_id = getattr(stock, "_app_id", None)
        audience = audience or getattr(stock, "_to_channel_from_bot_oauth_scope", None)
        key = (app_id, audience, service_url)
        client = self._clients.get(key)
        if client is None:
            factory: ServiceClientCredentialsFactory = stock._credential_factory
            credentials = await factory.create_credentials(
                app_id,
                audience,
                stock._login_endpoint,
                stock._validate_authority,
            )
            client = self._clients.setdefault(key, self._build(credentials, service_url))
        return client

    def _build(self, credentials: Any, url: str) -> ConnectorClient:
        sender = AiohttpSender(self._session)

        def pipeline(config: Any) -> AsyncPipeline:
            # The policies msrest's ServiceClientAsync puts in its default pipeline, with our
            # token policy and sender (botframework's `pipeline_type` hook).
            policies = [
                config.user_agent_policy,
                BearerPolicy(credentials),
                RawDeserializer(),
                config.http_logger_policy,
            ]
            return AsyncPipeline(policies, sender)

        client = ConnectorClient(credentials, base_url=url, pipeline_type=pipeline)
        client.config.add_user_agent(USER_AGENT)  # what botbuilder's own factory adds
        # botbuilder internal: the operation groups keep the client's msrest Serializer in
        # `_serialize`; activities are written by wire.to_wire instead (see wire.py).
        client.conversations._serialize = FastBody(client.conversations._serialize)
        client.conversations = DirectConversations(client, credentials, self._session)
        return client


class DirectConversations:
    """Stands in for a ConnectorClient's `conversations` operation group. The three calls
    of a turn (reply, send to a conversation, update an activity; and deleting one) build
    the URL and headers
    msrest's generated code builds and the JSON `wire.to_wire` writes (equal to msrest's,
    tested), and go straight onto the shared session: msrest's request objects, policies
    and response deserializer cost about as much as the HTTP call. A failure raises the
    ErrorResponseException msrest raises. Every other operation is the stock one."""

    def __init__(
        self,
        client: ConnectorClient,
        credentials: Any,
        session: Callable[[], aiohttp.ClientSession],
    ):
        self._stock = client.conversations
        self._client, self._credentials, self._session = client, credentials, session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stock, name)

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Any, **options: Any
    ) -> ResourceResponse | None:
        if options or not (conversation_id and activity_id):
            return await self._stock.reply_to_activity(
                conversation_id, activity_id, activity, **options
            )
        url = self._url(
            self._stock.reply_to_activity, conversationId=conversation_id, activityId=activity_id
        )
        return await self._call("POST", url, activity, {"x-ms-conversation-id": conversation_id})

    async def send_to_conversation(
        self, conversation_id: str, activity: Any, **options: Any
    ) -> ResourceResponse | None:
        if options or not conversation_id:
            return await self._stock.send_to_conversation(conversation_id, activity, **options)
        url = self._url(self._stock.send_to_conversation, conversationId=conversation_id)
        return await self._call("POST", url, activity, {})

    async def update_activity(
        self, conversation_id: str, activity_id: str, activity: Any, **options: Any
    ) -> ResourceResponse | None:
        if options or not (conversation_id and activity_id):
            return await self._stock.update_activity(
                conversation_id, activity_id, activity, **options
            )
        url = self._url(
            self._stock.update_activity, conversationId=conversation_id, activityId=activity_id
        )
        return await self._call("PUT", url, activity, {})

    async def delete_activity(self, conversation_id: str, activity_id: str, **options: Any) -> None:
        """The bot's own message deleted (a disposed record's alert Teams won't edit)."""
        if options or not (conversation_id and activity_id):
            await self._stock.delete_activity(conversation_id, activity_id, **options)
            return
        url = self._url(
            self._stock.delete_activity, conversationId=conversation_id, activityId=activity_id
        )
        await self._call("DELETE", url, None, {})

    def _url(self, operation: Any, **path: str) -> str:
        # botframework's generated operations keep their URL template in `metadata` and their
        # msrest service client in `_client`; msrest
        # quotes each path value with nothing safe, then joins it to the base URL.
        quoted = {name: quote(str(value), safe="") for name, value in path.items()}
        return str(self._stock._client.format_url(operation.metadata["url"], **quoted))

    async def _call(
        self, method: str, url: str, activity: Any, extra: dict[str, str]
    ) -> ResourceResponse | None:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            **extra,
            "User-Agent": self._client.config.user_agent,
        }
        if token := await bearer_token(self._credentials):
            headers["Authorization"] = f"Bearer {token}"
        # msrest's json.dumps: ASCII, default spacing; a DELETE has no body.
        body = "" if activity is None else json.dumps(to_wire(activity))
        answer = await exchange(self._session(), method, url, headers, body)
        if answer.status not in (200, 201, 202):
            response = AioHttpClientResponse(ClientRequest(method, url), answer)
            await response.load_body()
            raise ErrorResponseException(self._stock._deserialize, response)
        try:
            data = json.loads(await answer.read() or b"null")
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            return ResourceResponse(id=data["id"])
        return None


class _PooledFactory(ConnectorFactory):
    """botbuilder's ConnectorFactory interface, answered from the pool."""

    def __init__(self, pool: ConnectorPool, stock: ConnectorFactory):
        self._pool, self._stock = pool, stock

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        return await self._pool.client(self._stock, service_url, audience)


class LazyUserTokenClient(UserTokenClient):
    """The bot has no sign-in prompts, so the user-token client is built only if something
    ever asks for a user token (botbuilder builds one for every turn)."""

    def __init__(self, build: Callable[[], Any]):
        self._build = build
        self._client: UserTokenClient | None = None

    async def _real(self) -> UserTokenClient:
        if self._client is None:
            self._client = await self._build()
        return self._client

    async def get_user_token(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._real()).get_user_token(*args, **kwargs)

    async def get_sign_in_resource(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._real()).get_sign_in_resource(*args, **kwargs)

    async def sign_out_user(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._real()).sign_out_user(*args, **kwargs)

    async def get_token_status(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._real()).get_token_status(*args, **kwargs)

    async def get_aad_tokens(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._real()).get_aad_tokens(*args, **kwargs)

    async def exchange_token(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._real()).exchange_token(*args, **kwargs)
