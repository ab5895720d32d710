"""Issue 14: Teams on our own connector path, over real HTTP to the fake connector."""

from __future__ import annotations

import asyncio
import gc
import json
from datetime import UTC, datetime

import jwt
import sqlalchemy as sa
from botbuilder.core import TurnContext
from botframework.connector import models
from cryptography.hazmat.primitives.asymmetric import rsa
from msrest.serialization import Serializer
from sqlmodel import select

from bot.channels.teams.delivery import to_activity
from bot.channels.teams.wire import to_wire
from bot.domain.messages import Button, Choice, Mention, Message
from bot.storage.tables import ConversationRef
from tests.teams_client import personal, text_of


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


async def test_teamsperf_06_a_dropped_connection_is_retried_once(teams):
    teams.fake.fail_next("reply", status=0)  # the connection drops before an answer
    await teams.say("dave", "hello")
    [reply] = teams.fake.called("reply", personal("dave"))
    assert "Sorry" not in text_of(reply)


async def test_teamsperf_06_a_second_dropped_connection_is_not_retried(teams):
    teams.fake.fail_next("reply", status=0)
    teams.fake.fail_next("reply", status=0)
    await teams.say("dave", "hello")
    [reply] = teams.fake.called("reply", personal("dave"))
    assert text_of(reply).startswith("Sorry, something went wrong")


async def _signed(teams, token: str, **changes) -> int:
    activity = {**teams.activity("dave", "hello"), **changes}
    response = await teams.post(activity, token=f"Bearer {token}")
    return response.status


async def test_teamsperf_07_cached_token_is_still_refused_for_another_service_url(teams):
    token = teams.fake.sign()
    assert await _signed(teams, token) == 200
    assert await _signed(teams, token) == 200  # now from the cache
    assert await _signed(teams, token, serviceUrl="https://smba.example.com/") == 401


async def test_teamsperf_07_token_for_another_app_id_is_refused_beside_a_cached_one(teams):
    assert await _signed(teams, teams.fake.sign()) == 200
    assert await _signed(teams, teams.fake.sign(aud="another-app-id")) == 401


async def test_teamsperf_07_unknown_key_id_refreshes_the_keys_once_then_401(teams):
    assert await _signed(teams, teams.fake.sign()) == 200
    fetched = teams.fake.key_requests
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(teams.fake.sign(), options={"verify_signature": False})
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "key-unknown"})
    assert await _signed(teams, forged) == 401
    assert teams.fake.key_requests == fetched + 1
    assert await _signed(teams, forged) == 401
    assert teams.fake.key_requests == fetched + 1  # no refresh storm


async def test_teamsperf_07_a_new_signing_key_is_picked_up(teams):
    assert await _signed(teams, teams.fake.sign()) == 200
    teams.fake.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    teams.fake.key_id = "key-rotated"
    assert await _signed(teams, teams.fake.sign()) == 200


async def test_teamsperf_05_the_start_up_heap_is_frozen(teams):
    assert gc.get_freeze_count() > 0


async def _until(condition, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_teamsperf_04_turns_of_one_conversation_run_in_order(teams):
    await teams.say("dave", "hello")
    await teams.say("erin", "hello")
    fake, conversation = teams.fake, personal("dave")
    fake.holding = True  # the connector stalls every reply until released
    first = asyncio.create_task(teams.post(teams.activity("dave", "help", activity_id="d-1")))
    await _until(lambda: len(fake.held) == 1)
    second = asyncio.create_task(teams.post(teams.activity("dave", "help", activity_id="d-2")))
    await _until(lambda: teams.adapter.turns.waiting(conversation) == 2)
    other = asyncio.create_task(teams.post(teams.activity("erin", "help", activity_id="e-1")))
    await _until(lambda: len(fake.held) == 2)  # another conversation is not held up
    assert [body["replyToId"] for body in fake.held] == ["d-1", "e-1"]
    fake.holding = False
    for task in (first, second, other):
        assert (await task).status == 200
    replies = [c.activity.get("replyToId") for c in fake.called("reply", conversation)]
    order = [reply for reply in replies if reply in ("d-1", "d-2")]
    assert order == sorted(order) and set(order) == {"d-1", "d-2"}  # all of d-1's, then d-2's
    assert teams.adapter.turns.waiting(conversation) == 0


async def test_teamsperf_03_an_unchanged_chat_reference_is_not_saved_again(teams):
    await teams.say("dave", "hello")
    statements: list[str] = []

    def seen(_conn, _cursor, statement, parameters, *_args) -> None:
        statements.append(f"{statement} {parameters}")

    sa.event.listen(teams.service.engine, "before_cursor_execute", seen)
    try:
        await teams.say("dave", "hello again")
    finally:
        sa.event.remove(teams.service.engine, "before_cursor_execute", seen)
    assert statements  # the turn did reach the database
    assert not [s for s in statements if "user:aad-dave" in s]  # the chat reference
    assert teams.fake.called("reply", personal("dave"))[-1].activity["replyToId"] == "act-2"


async def test_teamsperf_03_a_redelivered_choice_is_answered_once(teams):
    """A pressed choice takes the one-hop path too; Teams redelivering it changes nothing."""
    await teams.say("erin", "friend request")
    [card] = teams.dms("erin")[-1].activity["attachments"]
    press = teams.activity("erin", value=card["content"]["actions"][0]["data"])
    for _ in range(3):
        assert (await teams.post(press)).status == 200
    assert len(teams.dms("erin")) == 2  # the question, then one answer to the press
    assert "already been answered" not in json.dumps(teams.dms("erin")[-1].activity)


def test_teamsperf_03_a_chat_reference_is_saved_as_msrest_writes_it():
    """The stored reference (compared with the saved one on every turn) is msrest's JSON."""
    activity = models.Activity(
        id="act-1",
        type="message",
        service_url="https://smba.example/uk/",
        channel_id="msteams",
        locale="en-GB",
        from_property=models.ChannelAccount(id="29:x", name="X", aad_object_id="aad-x"),
        recipient=models.ChannelAccount(id="28:bot", name="schoolbot"),
        conversation=models.ConversationAccount(
            id="a:1", conversation_type="personal", tenant_id="t"
        ),
    )
    ref = TurnContext.get_conversation_reference(activity)
    ref.activity_id = None
    assert to_wire(ref) == ref.serialize()


async def test_teamsperf_03_stale_question_cards_are_dropped_when_a_new_one_is_kept(teams, clock):
    def cards() -> list[str]:
        with teams.service.session() as session:
            rows = session.exec(
                select(ConversationRef.key).where(ConversationRef.key.startswith("card:aad-fay:"))
            )
            return list(rows)

    await teams.say("fay", "friend request")
    [first] = cards()
    clock.advance(days=31)
    await teams.say("fay", "cancel")
    await teams.say("fay", "friend request")  # a new question card: the old one goes
    [second] = cards()
    assert second != first
    clock.advance(minutes=5)
    await teams.say("fay", "cancel")
    await teams.say("fay", "friend request")  # a card kept within the hour: both stay
    assert len(cards()) == 2
