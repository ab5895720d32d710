"""A local fake of the Slack Web API over real HTTP, with Slack's documented error shapes.

chat.update and chat.delete answer as Slack documents: `message_not_found` for a message
never posted or already deleted, `cant_update_message` for one Slack won't edit.

It records every call, answers like Slack (`{"ok": true, ...}`, 200 with `ok: false` for
API errors, 429 with Retry-After for rate limits) and serves private file downloads that
need the bot token, including the HTML sign-in page Slack returns without one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.fake_slack_oauth import FakeSlackOAuth

BOT_TOKEN = "xoxb-test-not-a-real-token"
APP_TOKEN = "xapp-test-not-a-real-token"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in | Slack</title></head></html>"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    instance: str = ""  # which bot process called, when each has its own API prefix
    response: dict[str, Any] = field(default_factory=dict)
    token: str = ""  # the bearer token it was called with: which install answered


@dataclass
class RateLimits:
    """Slack's limits on chat.postMessage, enforced: "one message per second per channel"
    with short bursts, and a workspace-wide limit Slack does not publish (taken here as a
    few hundred a minute). Over either: 429 with Retry-After: 1, as Slack answers."""

    channel_per_second: float = 1.0
    channel_burst: int = 3
    workspace_per_second: float = 5.0
    workspace_burst: int = 20
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, when

    def allow(self, channel: str, now: float) -> bool:
        """One post to `channel` now, if both limits have room (a refused post uses none)."""
        levels = {}
        for key, rate, burst in (
            ("*", self.workspace_per_second, self.workspace_burst),
            (channel, self.channel_per_second, self.channel_burst),
        ):
            tokens, then = self._buckets.get(key, (float(burst), now))
            levels[key] = min(float(burst), tokens + (now - then) * rate)
        allowed = all(tokens >= 1 for tokens in levels.values())
        for key, tokens in levels.items():
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        return allowed


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)  # file downloads asked for, by name
    server: TestServer | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _envelopes: Any = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    delay: float = 0.0  # seconds before answering chat.postMessage, like a slow network
    hold: asyncio.Event | None = None  # when set, chat.postMessage waits for it: Slack stalled
    # Channels the bot is not in, as Slack answers for them: a public one `not_in_channel`,
    # a private one (or a wrong id) `channel_not_found`, as if it did not exist.
    outside_public: set[str] = field(default_factory=set)
    outside_private: set[str] = field(default_factory=set)
    # Like Slack, post a held message even if the caller hung up meanwhile (it was killed
    # after sending): the caller never learns its message went out.
    finish_held_posts: bool = False
    held: int = 0  # chat.postMessage calls that have arrived and waited on `hold`
    limits: RateLimits | None = None  # enforce Slack's rate limits on chat.postMessage
    limited: int = 0  # posts answered 429 by `limits`
    # Messages deleted (chat.delete, or by a person, or by the workspace's own retention),
    # as (channel, ts): updating or deleting one again is `message_not_found`, as in Slack.
    deleted: set[tuple[str, str]] = field(default_factory=set)
    # Messages Slack won't edit (`cant_update_message`), e.g. where a workspace forbids it.
    uneditable: set[tuple[str, str]] = field(default_factory=set)
    # Installing with OAuth, and the rotating tokens it hands out (fake_slack_oauth.py).
    oauth: FakeSlackOAuth = field(default_factory=FakeSlackOAuth)

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    @property
    def authorize_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/oauth/v2/authorize"))

    def file_url(self, name: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/files-pri/T1-F1/{name}"))

    def fail_next(
        self,
        method: str,
        status: int = 200,
        error: str | None = None,
        retry_after: int | str | None = None,
    ) -> None:
        body = {"ok": False, "error": error or "ratelimited"}
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.failures[method].append((status, body, headers))

    def disconnect_next(self, method: str, times: int = 1) -> None:
        """Drop the connection without answering, like a network failure mid-request."""
        for _ in range(times):
            self.failures[method].append((0, {}, {}))

    def called(self, method: str, **match: Any) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and all(c.args.get(k) == v for k, v in match.items())
        ]

    async def wait_for_held(self, count: int = 1, timeout: float = 10) -> None:
        """Wait until `count` chat.postMessage calls are waiting on `hold`."""
        await self._wait(lambda: self.held >= count, timeout)

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 10, **match: Any
    ) -> list[Call]:
        """Wait until `count` matching calls arrived (the bot works after its ack)."""
        await self._wait(lambda: len(self.called(method, **match)) >= count, timeout)
        return self.called(method, **match)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)  # some methods send their arguments here
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.method == "POST":
            args.update(await request.post())
        if method == "oauth.v2.access":  # the app's own credentials, no token
            call = Call(
                method, args, response=self.oauth.access(args, request.headers.get("Authorization"))
            )
            self.calls.append(call)
            await self._notify()
            return web.json_response(call.response)
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        given = request.headers.get("Authorization")
        bearer = (given or "").removeprefix("Bearer ")
        if bearer in self.oauth.tokens:  # a token from an OAuth install
            if problem := self.oauth.token_problem(bearer):
                return web.json_response({"ok": False, "error": problem})
        elif given != f"Bearer {expected}" and "token" not in args:
            # Slack: no token at all is `not_authed`; a token it doesn't know, `invalid_auth`.
            error = "invalid_auth" if given and given.startswith("Bearer ") else "not_authed"
            return web.json_response({"ok": False, "error": error})
        call = Call(method, args, request.match_info.get("instance", ""), token=bearer)
        if self.failures[method]:
            status, body, headers = self.failures[method].pop(0)
            if status == 0:
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            self.calls.append(call)
            await self._notify()
            return web.json_response(body, status=status, headers=headers)
        if self.limits is not None and method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            if not self.limits.allow(channel, asyncio.get_running_loop().time()):
                self.limited += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
        if self.delay and method == "chat.postMessage":
            await asyncio.sleep(self.delay)
        if self.hold is not None and method == "chat.postMessage":
            self.held += 1
            await self._notify()
            await self.hold.wait()
            hung_up = request.transport is None or request.transport.is_closing()
            if hung_up and not self.finish_held_posts:
                return web.Response()  # the caller hung up (was killed): nothing was posted
        if method == "auth.test" and bearer in self.oauth.tokens:
            call.response = self.oauth.auth_test(bearer)
        else:
            call.response = self._answer(method, args)
        self.calls.append(call)
        await self._notify()
        return web.json_response(call.response)

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, ready: Any, timeout: float) -> None:
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(ready), timeout)

    # --- Socket Mode: apps.connections.open hands out this websocket ------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
        )
        self.sockets.append(ws)
        await self._notify()
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.acks[ack["envelope_id"]] = ack
                await self._notify()
        return ws

    async def wait_for_socket(self, timeout: float = 10) -> None:
        await self._wait(lambda: any(not ws.closed for ws in self.sockets), timeout)

    async def push(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Send an envelope the way Slack does: events_api, interactive or slash_commands."""
        envelope_id = f"env-{next(self._envelopes)}"
        ws = next(ws for ws in reversed(self.sockets) if not ws.closed)
        await ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            }
        )
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5) -> dict[str, Any]:
        await self._wait(lambda: envelope_id in self.acks, timeout)
        return self.acks[envelope_id]

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if method in ("conversations.history", "chat.postMessage"):
            if channel in self.outside_public:
                return {"ok": False, "error": "not_in_channel"}
            if channel in self.outside_private:
                return {"ok": False, "error": "channel_not_found"}
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team_id": "T1",
                "url": "https://example.slack.com/",
                "team": "School",
                "user": "schoolbot",
            }
        if method == "apps.connections.open":
            assert self.server is not None
            return {"ok": True, "url": str(self.server.make_url("/link")).replace("http", "ws", 1)}
        if method in ("chat.update", "chat.delete"):
            where = (_dm(args.get("channel")), args.get("ts"))
            if not self._posted(args.get("channel"), args.get("ts")) or where in self.deleted:
                return {"ok": False, "error": "message_not_found"}  # as Slack: no such message
            if method == "chat.update" and where in self.uneditable:
                return {"ok": False, "error": "cant_update_message"}
            if method == "chat.delete":
                self.deleted.add(where)  # type: ignore[arg-type]
                return {"ok": True, "channel": where[0], "ts": where[1]}
        if method == "chat.postEphemeral":
            # Seen only by `user`, who must be in the conversation (a DM: its own person);
            # Slack answers with message_ts alone, and the message can't be updated later.
            user, dm = args.get("user"), isinstance(channel, str) and channel.startswith("D")
            if not user or (dm and channel != _dm(user)):
                return {"ok": False, "error": "user_not_in_channel"}
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": _dm(args.get("channel")), "ts": ts, "message_ts": ts}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": _dm(args.get("users"))}}
        if method == "conversations.history":
            posted = [
                c
                for c in self.calls
                if c.method == "chat.postMessage"
                and c.response.get("channel") == args.get("channel")
            ]
            return {
                "ok": True,
                "messages": [
                    {
                        "ts": c.response["ts"],
                        "text": c.args.get("text"),
                        "metadata": c.args.get("metadata"),
                    }
                    for c in reversed(posted)
                ],
            }
        return {"ok": True}

    def delete(self, call: Call) -> None:
        """A person (or the workspace's retention) deletes a posted message."""
        self.deleted.add((call.response["channel"], call.response["ts"]))

    def _posted(self, channel: Any, ts: Any) -> bool:
        return any(
            c.method == "chat.postMessage"
            and c.response.get("ts") == ts
            and c.response.get("channel") == _dm(channel)
            for c in self.calls
        )

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.fetched.append(name)
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}" or name not in self.files:
            return web.Response(body=LOGIN_PAGE, content_type="text/html")
        data, kind = self.files[name]
        return web.Response(body=data, content_type=kind)

    async def start(self) -> FakeSlack:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/{instance}/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_get("/{instance}/api/{method}", self._api)
        app.router.add_get("/files-pri/T1-F1/{name}", self._file)
        app.router.add_get("/link", self._socket)
        app.router.add_get("/oauth/v2/authorize", self.oauth.authorize)
        self.server = TestServer(app)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self.server is not None:
            await self.server.close()


def _dm(channel: Any) -> Any:
    """Posting to a user id lands in the DM channel, which is what Slack answers with."""
    return f"D{channel}" if isinstance(channel, str) and channel.startswith("U") else channel


def blocks_text(call: Call) -> str:
    """Everything a person would read in a posted message, for assertions."""
    blocks = call.args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return call.args.get("text", "") + "\n" + json.dumps(blocks)
