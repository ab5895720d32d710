"""Plays Microsoft Teams in the tests: signed activities to our running /api/messages.

People are "29:<name>" to Teams with Entra object id "aad-<name>" (the id roles use);
each has a personal chat "a:personal-<name>". Channels are "19:<name>@thread.tacv2" in
the team "19:general@thread.tacv2".
"""

from __future__ import annotations

import itertools
import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from jsonschema import Draft6Validator

from bot.app import create_app
from bot.config import Settings
from bot.platforms.teams.adapter import TeamsAdapter
from tests.fakes.fake_connector import APP_ID, TENANT, Call, FakeConnector
from tests.helpers import SCHEMAS, make_service, trust_of

TEAM = "19:general@thread.tacv2"
CARD_SCHEMA = SCHEMAS / "adaptive-cards" / "adaptive-card-1.5.json"
_validator: Draft6Validator | None = None


def channel_id(name: str) -> str:
    return f"19:{name}@thread.tacv2"


def personal(user: str) -> str:
    return f"a:personal-{user}"


def cards_in(call: Call) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in call.activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def text_of(call: Call) -> str:
    """Everything a person would read in a sent activity, for assertions."""
    return (call.activity.get("text") or "") + "\n" + json.dumps(cards_in(call))


def assert_valid_card(card: dict[str, Any]) -> None:
    global _validator
    if _validator is None:
        _validator = Draft6Validator(json.loads(CARD_SCHEMA.read_text(encoding="utf-8")))
    errors = sorted(_validator.iter_errors(card), key=str)
    assert errors == [], "\n".join(e.message[:300] for e in errors)
    assert card["version"] == "1.5"


def assert_all_cards_valid(fake: FakeConnector) -> int:
    cards = [card for call in fake.called() for card in cards_in(call)]
    for card in cards:
        assert_valid_card(card)
    return len(cards)


class TeamsClient:
    def __init__(self, server: TestServer, service: Any, fake: FakeConnector, http: Any):
        self.server, self.service, self.fake, self.http = server, service, fake, http
        self._ids = itertools.count(1)

    @property
    def adapter(self) -> TeamsAdapter:
        return self.server.app[TeamsAdapter.APP_KEY]

    def activity(
        self,
        user: str,
        text: str | None = None,
        value: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        channel: str | None = None,
        thread: str | None = None,
        activity_id: str | None = None,
        kind: str = "message",
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": kind,
            "id": activity_id or f"act-{next(self._ids)}",
            "timestamp": "2026-11-21T15:00:00.000Z",
            "serviceUrl": self.fake.base_url,
            "channelId": "msteams",
            "from": {"id": f"29:{user}", "name": user.title(), "aadObjectId": f"aad-{user}"},
            "recipient": {"id": f"28:{APP_ID}", "name": "schoolbot"},
            "locale": "en-GB",
            "channelData": {"tenant": {"id": TENANT}},
        }
        if channel:
            data["conversation"] = {
                "id": thread or channel_id(channel),
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": TENANT,
            }
            data["channelData"].update(
                teamsChannelId=channel_id(channel),
                teamsTeamId=TEAM,
                channel={"id": channel_id(channel)},
                team={"id": TEAM},
            )
        else:
            data["conversation"] = {
                "id": personal(user),
                "conversationType": "personal",
                "tenantId": TENANT,
            }
        if text is not None:
            data["text"] = text
        if value is not None:
            data["value"] = value
        if attachments:
            data["attachments"] = attachments
        return data

    async def post(
        self,
        activity: Any,
        token: str | None = "valid",
        content_type: str | None = "application/json",
        raw: bytes | None = None,
    ) -> aiohttp.ClientResponse:
        headers = {}
        if token == "valid":
            headers["Authorization"] = f"Bearer {self.fake.sign()}"
        elif token:
            headers["Authorization"] = token
        if content_type:
            headers["Content-Type"] = content_type
        body = raw if raw is not None else json.dumps(activity).encode()
        response = await self.http.post(
            self.server.make_url("/api/messages"), data=body, headers=headers
        )
        await response.read()
        return response

    async def say(self, user: str, text: str = "", **kwargs: Any) -> None:
        response = await self.post(self.activity(user, text, **kwargs))
        assert response.status == 200, await response.text()

    def dms(self, user: str) -> list[Call]:
        return [c for c in self.fake.called() if c.conversation == personal(user)]

    def last(self, user: str) -> str:
        return text_of(self.dms(user)[-1])

    async def answer(self, user: str, *labels: str) -> None:
        """Press the answer buttons (or pick from the list) on the latest question (the
        latest card: a short note, such as a stale button's, may have come after it)."""
        for label in labels:
            [card] = cards_in(next(c for c in reversed(self.dms(user)) if cards_in(c)))
            value = find_submit(card, label)
            await self.say(user, value=value)

    async def press_on_card(self, user: str, label: str) -> Call:
        """Press a choice on the latest question card in a personal chat, as Teams sends it
        (with replyToId naming the card); returns the card's call."""
        card_call = next(c for c in reversed(self.dms(user)) if cards_in(c))
        [card] = cards_in(card_call)
        activity = self.activity(user, value=find_submit(card, label))
        activity["replyToId"] = card_call.activity_id
        response = await self.post(activity)
        assert response.status == 200, await response.text()
        return card_call

    async def press(
        self, user: str, call: Call, label: str, text: str | None = None, channel: str = ""
    ) -> aiohttp.ClientResponse:
        """Press a button on a card posted in a channel thread (a "create" call)."""
        [card] = cards_in(call)
        value = dict(find_submit(card, label))
        if text is not None:
            value["text"] = text
        activity = self.activity(user, value=value, channel=channel, thread=call.conversation)
        activity["replyToId"] = call.activity_id
        return await self.post(activity)


def find_submit(card: dict[str, Any], label: str) -> dict[str, Any]:
    """The data Teams would send for the button (or list choice) titled `label`."""
    for action in card.get("actions", []):
        if action["title"] != label:
            continue
        if action["type"] == "Action.ShowCard":
            return dict(action["card"]["actions"][0]["data"])
        return dict(action["data"])
    for element in card["body"]:
        if element["type"] == "Input.ChoiceSet":
            for choice in element["choices"]:
                if choice["title"] == label:
                    [send] = card["actions"][:1]
                    return {**send["data"], element["id"]: choice["value"]}
    raise AssertionError(f"no button {label!r} in {json.dumps(card)[:500]}")


@asynccontextmanager
async def running_bot(
    url: str, pack: str, clock: Any, tmp_path: Path, fake: FakeConnector, **extra: Any
):
    service = make_service(url, pack, clock, tmp_path / "evidence")
    settings = Settings(**{**fake.settings, "SCHOOLBOT_DATA_DIR": tmp_path, **extra})
    server = TestServer(create_app(trust_of(service, pack), settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield TeamsClient(server, service, fake, http)
    finally:
        await server.close()


async def install_in_team(teams: TeamsClient) -> None:
    """Teams tells the bot it was added to the team (in its General channel)."""
    activity = teams.activity("admin", channel="general", kind="conversationUpdate")
    activity["conversation"]["id"] = TEAM
    activity["membersAdded"] = [{"id": f"28:{APP_ID}"}]
    activity["channelData"]["eventType"] = "teamMemberAdded"
    response = await teams.post(activity)
    assert response.status == 200


async def mention(teams: TeamsClient, user: str, channel: str, text: str) -> str:
    """'@schoolbot <text>' typed in a channel; returns the bot's reply in that thread."""
    activity = teams.activity(user, f"<at>schoolbot</at> {text}", channel=channel)
    activity["entities"] = [
        {
            "type": "mention",
            "mentioned": {"id": f"28:{APP_ID}", "name": "schoolbot"},
            "text": "<at>schoolbot</at>",
        }
    ]
    response = await teams.post(activity)
    assert response.status == 200
    return text_of(teams.fake.called(conversation=channel_id(channel))[-1])
