"""Socket Mode end to end: the bot opens a websocket to a local fake Slack and gets envelopes.

No signing secret and no public URL: `apps.connections.open` (called with the app token)
hands out a local ws:// URL, the fake pushes events_api, interactive and slash_commands
envelopes, and every one must be acknowledged by envelope id.
"""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.config import Settings
from tests.fakes.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack, blocks_text
from tests.fakes.slack_harness import dm_event
from tests.helpers import make_service


@pytest.fixture
async def socket_bot(sqlite_url, clock, tmp_path):
    fake = await FakeSlack().start()
    service = make_service(sqlite_url, "dukeries-academy", clock, tmp_path / "evidence")
    settings = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=fake.api_url,
        SLACK_DSL_CHANNEL="CDSL",
        SCHOOLBOT_DATA_DIR=tmp_path,
    )
    server = TestServer(create_app(service, settings))
    await server.start_server()
    await fake.wait_for_socket()
    yield server, fake
    await server.close()
    await fake.close()


async def test_socket_mode_conversation_with_acks_and_no_public_endpoint(socket_bot):
    server, fake = socket_bot
    assert fake.called("apps.connections.open")  # asked for the URL with the app token

    envelope = await fake.push("events_api", dm_event("U1", "friend request", "Ev1"))
    assert (await fake.wait_for_ack(envelope))["envelope_id"] == envelope
    [question] = await fake.wait_for("chat.postMessage", channel="DU1")
    assert "Who sent the request?" in blocks_text(question)

    # Slack redelivers an envelope it thinks timed out: same event_id, answered once.
    again = await fake.push("events_api", dm_event("U1", "friend request", "Ev1"), retry_attempt=1)
    await fake.wait_for_ack(again)

    button = question.args["blocks"][-1]["elements"][0]
    click = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trig",
        "channel": {"id": "DU1"},
        "container": {"type": "message", "message_ts": "1.1"},
        "message": {"ts": "1.1"},
        "actions": [{"action_id": button["action_id"], "value": button["value"], "type": "button"}],
    }
    await fake.wait_for_ack(await fake.push("interactive", click))
    calls = await fake.wait_for("chat.postMessage", 2, channel="DU1")
    assert "member of your family" in blocks_text(calls[-1])

    command = {
        "command": "/socialmedia",
        "text": "",
        "user_id": "U2",
        "channel_id": "C9",
        "team_id": "T1",
        "trigger_id": "t2",
    }
    await fake.wait_for_ack(await fake.push("slash_commands", command))
    [menu] = await fake.wait_for("chat.postMessage", channel="U2")
    assert "What would you like to do?" in blocks_text(menu)

    assert len(fake.called("chat.postMessage", channel="DU1")) == 2  # the retry made none

    # Socket Mode needs no public URL, so the HTTP endpoint isn't there to be probed.
    async with aiohttp.ClientSession() as http:
        response = await http.post(server.make_url("/slack/events"), data=b"{}")
        assert response.status == 404
