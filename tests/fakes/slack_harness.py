"""The Slack test harness: our real server with Slack mounted, and a signing Slack client.

The `bot` fixture (conftest.py) starts it on a fresh SQLite database against the fake Slack."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

from bot.app import create_app
from bot.config import Settings
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack, blocks_text
from tests.helpers import make_service

SECRET = "test-signing-secret"
DSL_CHANNEL, SLT_CHANNEL = "CDSL", "CSLT"


def dm_event(
    user: str,
    text: str,
    event_id: str,
    ts: str = "1.0",
    files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A `message.im` event callback, as Slack sends it for a DM to the bot."""
    event: dict[str, Any] = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "channel": f"D{user}",
        "text": text,
        "ts": ts,
    }
    if files:
        event.update(subtype="file_share", files=files)
    return {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": event_id,
        "event_time": 1,
        "event": event,
    }


def signed_headers(body: str, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature headers for `body` (timestamp: now unless given)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }


class Bot:
    """Our real aiohttp app with Slack mounted, plus helpers that sign requests like Slack."""

    def __init__(self, server: TestServer, service, fake: FakeSlack, http: aiohttp.ClientSession):
        self.server, self.service, self.fake, self.http = server, service, fake, http
        self._events = 0
        self._presses = 0  # Slack gives every press its own trigger id and action time

    def _press(self) -> int:
        self._presses += 1
        return self._presses

    async def post(
        self,
        body: str,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        retry: int | None = None,
    ) -> aiohttp.ClientResponse:
        headers = signed_headers(body, content_type, timestamp)
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        if retry is not None:
            headers.update(
                {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            )
        return await self.http.post(
            self.server.make_url("/slack/events"), data=body.encode(), headers=headers
        )

    async def dm(
        self,
        user: str,
        text: str = "",
        files: list[dict[str, Any]] | None = None,
        event_id: str | None = None,
        retry: int | None = None,
    ) -> aiohttp.ClientResponse:
        self._events += 1
        n = self._events
        body = dm_event(user, text, event_id or f"Ev{n}", f"{n}.0", files)
        return await self.post(json.dumps(body), "application/json", retry=retry)

    async def click(
        self, user: str, channel: str, action_id: str, value: str, message_ts: str = "1.1"
    ) -> aiohttp.ClientResponse:
        n = self._press()
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "trigger_id": f"trig{n}",
            "channel": {"id": channel},
            "container": {"type": "message", "message_ts": message_ts},
            "message": {"ts": message_ts},
            "actions": [
                {
                    "action_id": action_id,
                    "value": value,
                    "type": "button",
                    "block_id": "b",
                    "action_ts": f"{n}.0",
                }
            ],
        }
        return await self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    async def press_on_message(self, user: str, call: Any, label: str) -> None:
        """Press `label` on the message `call` posted, as it was posted (a phone that has
        not caught up with an update), with the block_actions payload Slack sends."""
        button = next(
            e
            for b in call.args["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == label
        )
        channel, ts = call.response["channel"], call.response["ts"]
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "verification-token",
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"trig{self._press()}",
            "team": {"id": "T1", "domain": "school"},
            "channel": {"id": channel, "name": "directmessage"},
            "message": {
                "type": "message",
                "user": "UBOT",
                "ts": ts,
                "bot_id": "BBOT",
                "text": call.args["text"],
                "blocks": call.args["blocks"],
            },
            "response_url": "https://hooks.slack.com/actions/T1/1/x",
            "actions": [
                {
                    "type": "button",
                    "block_id": "b1",
                    "action_id": button["action_id"],
                    "text": button["text"],
                    "value": button["value"],
                    "action_ts": f"{self._presses}.0",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        response = await self.post(body, "application/x-www-form-urlencoded")
        assert response.status == 200

    async def submit_modal(
        self, user: str, private_metadata: str, text: str
    ) -> aiohttp.ClientResponse:
        payload = {
            "type": "view_submission",
            "user": {"id": user},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "trigger_id": f"trig{self._press()}",
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": "schoolbot_reason",
                "private_metadata": private_metadata,
                "state": {
                    "values": {"reason": {"text": {"type": "plain_text_input", "value": text}}}
                },
            },
        }
        return await self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    async def command(self, user: str, text: str = "") -> aiohttp.ClientResponse:
        form = {
            "command": "/socialmedia",
            "text": text,
            "user_id": user,
            "channel_id": "CSTAFFROOM",
            "team_id": "T1",
            "trigger_id": f"trig{self._press()}",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def shortcut(self, user: str) -> aiohttp.ClientResponse:
        payload = {
            "type": "shortcut",
            "callback_id": "schoolbot_start",
            "user": {"id": user},
            "team": {"id": "T1"},
            "trigger_id": f"trig{self._press()}",
        }
        return await self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    async def open_home(self, user: str) -> aiohttp.ClientResponse:
        self._events += 1
        body = {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": f"EvHome{self._events}",
            "event_time": 1,
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D{user}",
                "tab": "home",
            },
        }
        return await self.post(json.dumps(body), "application/json")

    async def answer(self, user: str, *answers: str) -> None:
        """Press the answer buttons of the latest question, like a person on a phone."""
        for answer in answers:
            before = len(self.fake.called("chat.postMessage", channel=f"D{user}"))
            last = self.fake.called("chat.postMessage", channel=f"D{user}")[-1]
            button = next(
                e
                for b in last.args["blocks"]
                if b["type"] == "actions"
                for e in b["elements"]
                if e["text"]["text"] == answer
            )
            response = await self.click(user, f"D{user}", button["action_id"], button["value"])
            assert response.status == 200
            await self.fake.wait_for("chat.postMessage", before + 1, channel=f"D{user}")

    async def say(self, user: str, text: str) -> None:
        before = len(self.fake.called("chat.postMessage", channel=f"D{user}"))
        assert (await self.dm(user, text)).status == 200
        await self.fake.wait_for("chat.postMessage", before + 1, channel=f"D{user}")

    def last_dm(self, user: str) -> str:
        return blocks_text(self.fake.called("chat.postMessage", channel=f"D{user}")[-1])


@asynccontextmanager
async def running_slack_bot(
    url: str, clock: Any, tmp_path: Path, **more_settings: str
) -> AsyncIterator[Bot]:
    """Our app with Slack on (HTTP mode, pack dukeries-academy) against a new fake Slack;
    `more_settings` by their environment names (SCHOOLBOT_METRICS_TOKEN=...)."""
    fake = await FakeSlack().start()
    service = make_service(url, "dukeries-academy", clock, tmp_path / "evidence")
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        SLACK_DSL_CHANNEL=DSL_CHANNEL,
        SLACK_SLT_CHANNEL=SLT_CHANNEL,
        SCHOOLBOT_DATA_DIR=tmp_path,
        **more_settings,
    )
    app = create_app(service, settings)
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Bot(server, service, fake, http)
    await server.close()
    await fake.close()
