"""Issue 14: Teams on our own connector path, over real HTTP to the fake connector."""

from __future__ import annotations

from datetime import UTC, datetime

from botframework.connector import models
from msrest.serialization import Serializer

from bot.channels.teams.delivery import to_activity
from bot.channels.teams.wire import to_wire
from bot.domain.messages import Button, Choice, Mention, Message
from tests.teams_client import personal


async def test_teamsperf_01_turns_and_proactive_sends_share_one_connection(teams):
    """One cached connector client on the app's aiohttp session: replies to several turns
    and a proactive DM all reach the connector over the same keep-alive connection."""
    for text in ("hello", "hello again", "thanks"):
        await teams.say("dave", text)
    await teams.adapter.delivery.stop()  # the test runs the outbox itself
    teams.service.queue_for_user("teams", "aad-dave", [Message("A note for you.")])
    await teams.adapter.delivery.flush()
    calls = teams.fake.called(conversation=personal("dave"))
    assert calls[-1].activity["text"] == "A note for you."
    assert len(teams.fake.peers) == len(calls) >= 4
    assert len(set(teams.fake.peers)) == 1


def _messages() -> list[Message]:
    return [
        Message("hello"),
        Message("Pick one", title="Question", choices=(Choice("yes", "Yes"), Choice("no", "No"))),
        Message("Details", fields=(("When", "today"), ("Where", "the hall"))),
        Message("Open it", buttons=(Button("open", "Open", "case-1", style="primary"),)),
        Message("Urgent", urgent=True, mentions=(Mention(user_id="aad-x", name="X"),)),
    ]


def test_teamsperf_02_reply_json_equals_msrest_output():
    serializer = Serializer({k: v for k, v in models.__dict__.items() if isinstance(v, type)})
    for message in _messages():
        activity = to_activity(message)
        # what botbuilder adds to a reply before it is sent
        activity.timestamp = datetime(2026, 11, 21, 15, 0, 0, 123000, tzinfo=UTC)
        activity.reply_to_id = "act-1"
        activity.service_url = "https://smba.example/uk/"
        activity.channel_id = "msteams"
        activity.conversation = models.ConversationAccount(
            id="a:1", conversation_type="personal", tenant_id="t"
        )
        activity.from_property = models.ChannelAccount(id="28:bot", name="schoolbot")
        activity.recipient = models.ChannelAccount(id="29:x", aad_object_id="aad-x")
        activity.channel_data = {"tenant": {"id": "t"}, "notification": {"alert": True}}
        assert to_wire(activity) == serializer.body(activity, "Activity"), message.text
