"""Teams on our own connector path, over real HTTP to the fake connector: one connection,
reply JSON equal to msrest's, retries, the token cache, turns in order, chat references
and question cards written once."""

from __future__ import annotations

import asyncio
import copy
import gc
import json
from datetime import UTC, datetime

import aiohttp
import jwt
import pytest
import sqlalchemy as sa
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from botframework.connector import models
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest.serialization import Serializer
from sqlmodel import select

from bot.domain.messages import Button, Choice, Mention, Message
from bot.platforms.teams.button_seal import ButtonSeal
from bot.platforms.teams.connector import ConnectorPool
from bot.platforms.teams.sends import http_status, to_activity
from bot.platforms.teams.wire import from_wire, to_wire
from bot.storage.tables import ConversationRef
from tests.fakes.fuzz_strategies import json_values, maybe, record, short, teams_activity
from tests.fakes.teams_client import personal, text_of


def sealed_for_school_1(data: dict) -> dict:
    return ButtonSeal((b"a test key",)).seal(data, 1)


@pytest.mark.issue(14, 1)
async def test_turns_and_proactive_sends_share_one_connection(teams):
    """One cached connector client on the app's aiohttp session: replies to several turns
    and a proactive DM all reach the connector over the same keep-alive connection."""
    for text in ("hello", "hello again", "thanks"):
        await teams.say("dave", text)
    await teams.adapter.sends.stop()  # the test runs the outbox itself
    teams.service.intake.queue_replies("teams", "aad-dave", [Message("A note for you.")])
    await teams.adapter.sends.flush()
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


@pytest.mark.issue(14, 2)
def test_reply_json_equals_msrest_output():
    serializer = Serializer({k: v for k, v in models.__dict__.items() if isinstance(v, type)})
    for message in _messages():
        activity = to_activity(message, sealed_for_school_1)
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


@pytest.mark.issue(14, 6)
async def test_a_dropped_connection_is_retried_once(teams):
    teams.fake.fail_next("reply", status=0)  # the connection drops before an answer
    await teams.say("dave", "hello")
    [reply] = teams.fake.called("reply", personal("dave"))
    assert "Sorry" not in text_of(reply)


@pytest.mark.issue(14, 6)
async def test_a_second_dropped_connection_is_not_retried(teams):
    teams.fake.fail_next("reply", status=0)
    teams.fake.fail_next("reply", status=0)
    await teams.say("dave", "hello")
    [reply] = teams.fake.called("reply", personal("dave"))
    assert text_of(reply).startswith("Sorry, something went wrong")


async def _signed(teams, token: str, **changes) -> int:
    activity = {**teams.activity("dave", "hello"), **changes}
    response = await teams.post(activity, token=f"Bearer {token}")
    return response.status


@pytest.mark.issue(14, 7)
async def test_cached_token_is_still_refused_for_another_service_url(teams):
    token = teams.fake.sign()
    assert await _signed(teams, token) == 200
    assert await _signed(teams, token) == 200  # now from the cache
    assert await _signed(teams, token, serviceUrl="https://smba.example.com/") == 401


@pytest.mark.issue(14, 7)
async def test_token_for_another_app_id_is_refused_beside_a_cached_one(teams):
    assert await _signed(teams, teams.fake.sign()) == 200
    assert await _signed(teams, teams.fake.sign(aud="another-app-id")) == 401


@pytest.mark.issue(14, 7)
async def test_unknown_key_id_refreshes_the_keys_once_then_401(teams):
    assert await _signed(teams, teams.fake.sign()) == 200
    fetched = teams.fake.key_requests
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(teams.fake.sign(), options={"verify_signature": False})
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "key-unknown"})
    assert await _signed(teams, forged) == 401
    assert teams.fake.key_requests == fetched + 1
    assert await _signed(teams, forged) == 401
    assert teams.fake.key_requests == fetched + 1  # no refresh storm


@pytest.mark.issue(14, 7)
async def test_a_stalled_key_fetch_does_not_stall_other_conversations(teams):
    """botbuilder fetched the signing keys with blocking `requests` and no timeout: while
    the identity service hung, every conversation on the instance hung with it."""
    token = teams.fake.sign()
    assert await _signed(teams, token) == 200
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "key-unknown"})
    teams.fake.keys_stalled.set()
    teams.fake.keys_asked.clear()
    try:
        waiting = asyncio.create_task(_signed(teams, forged))
        await _until(teams.fake.keys_asked.is_set)  # its key refresh is now hanging
        assert not waiting.done()
        assert await asyncio.wait_for(_signed(teams, token), 5) == 200
    finally:
        teams.fake.keys_stalled.clear()
    assert await waiting == 401


@pytest.mark.issue(14, 7)
async def test_a_new_signing_key_is_picked_up(teams):
    assert await _signed(teams, teams.fake.sign()) == 200
    teams.fake.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    teams.fake.key_id = "key-rotated"
    assert await _signed(teams, teams.fake.sign()) == 200


@pytest.mark.issue(14, 5)
async def test_the_start_up_heap_is_frozen(teams):
    assert gc.get_freeze_count() > 0


async def _until(condition, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


@pytest.mark.issue(14, 4)
async def test_turns_of_one_conversation_run_in_order(teams):
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


@pytest.mark.issue(14, 3)
async def test_an_unchanged_chat_reference_is_not_saved_again(teams):
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


@pytest.mark.issue(14, 3)
async def test_a_redelivered_choice_is_answered_once(teams):
    """A pressed choice takes the one-hop path too; Teams redelivering it changes nothing."""
    await teams.say("erin", "friend request")
    [card] = teams.dms("erin")[-1].activity["attachments"]
    press = teams.activity("erin", value=card["content"]["actions"][0]["data"])
    for _ in range(3):
        assert (await teams.post(press)).status == 200
    replies = [c for c in teams.dms("erin") if c.kind == "reply"]
    assert len(replies) == 2  # the question, then one answer to the press
    assert len(teams.fake.called("update")) == 1  # the question shows its answer, once
    assert "already been answered" not in json.dumps(replies[-1].activity)


@pytest.mark.issue(14, 3)
def test_a_chat_reference_is_saved_as_msrest_writes_it():
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


@pytest.mark.issue(14, 3)
async def test_stale_question_cards_are_dropped_when_a_new_one_is_kept(teams, clock):
    async def cards() -> list[str]:
        await teams.adapter.cards.write()  # what is waiting goes now, not after the delay
        with teams.service.kernel.session() as session:
            rows = session.exec(
                select(ConversationRef.key).where(ConversationRef.key.startswith("card:aad-fay:"))
            )
            return list(rows)

    await teams.say("fay", "friend request")
    [first] = await cards()
    clock.advance(days=31)
    await teams.say("fay", "cancel")
    await teams.say("fay", "friend request")  # a new question card: the old one goes
    [second] = await cards()
    assert second != first
    clock.advance(minutes=5)
    await teams.say("fay", "cancel")
    await teams.say("fay", "friend request")  # a card kept within the hour: both stay
    assert len(await cards()) == 2


@pytest.mark.issue(14, 3)
async def test_question_cards_are_written_together_and_a_quick_press_still_closes(
    teams,
):
    """Cards are written a moment after they are sent, many in one statement and one
    transaction; a card answered before its write is closed from memory, never written."""
    cards = teams.adapter.cards
    cards.delay = 3600  # this test writes them itself: a loaded machine must not beat it to it
    inserts: list[bool] = []

    def seen(_conn, _cursor, statement, _params, _context, executemany) -> None:
        if statement.startswith("INSERT INTO conversation_ref"):
            inserts.append(executemany)

    await asyncio.gather(*(teams.say(name, "friend request") for name in ("gil", "hal", "ida")))
    assert len(cards.waiting) == 3
    sa.event.listen(teams.service.engine, "before_cursor_execute", seen)
    try:
        await cards.write()
    finally:
        sa.event.remove(teams.service.engine, "before_cursor_execute", seen)
    assert inserts == [True]  # three cards, one statement
    with teams.service.kernel.session() as session:
        rows = session.exec(
            select(ConversationRef.key).where(ConversationRef.key.startswith("card:"))
        )
        assert len(list(rows)) == 3

    await teams.say("jo", "friend request")
    [first] = cards.waiting
    await teams.press_on_card("jo", "A pupil (at our school or any other school)")
    [update] = await teams.fake.wait_for("update")
    assert "Answered: A pupil" in text_of(update)
    [following] = cards.waiting  # the next question's card; the answered one is gone
    await cards.write()
    with teams.service.kernel.session() as session:
        rows = session.exec(
            select(ConversationRef.key).where(ConversationRef.key.startswith("card:aad-jo"))
        )
        assert list(rows) == [following] != [first]


class _Credentials(MicrosoftAppCredentials):
    """A bot token without a login service."""

    def __init__(self) -> None:
        super().__init__("app-id", "secret")

    def get_access_token(self, force_refresh: bool = False) -> str:
        return "bot-token"

    def cached_token(self) -> str:
        return "bot-token"


@pytest.mark.issue(14, 2)
async def test_a_turns_calls_send_what_msrest_sends(unused_tcp_port):
    """Reply, send and update go straight onto our session (no msrest request objects):
    method, URL, the headers msrest sets and the body bytes are what stock msrest sends,
    and a connector error raises the same ErrorResponseException with its status."""
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def record(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((request.method, request.path_qs, dict(request.headers), body))
        if request.match_info["conversation"] == "gone":
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        return web.json_response({"id": "answer-1"})

    app = web.Application()
    app.router.add_route("*", "/uk/v3/conversations/{conversation}/activities", record)
    app.router.add_route("*", "/uk/v3/conversations/{conversation}/activities/{id}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    base = f"http://127.0.0.1:{unused_tcp_port}/uk/"
    activity = to_activity(
        Message("Pick one £", title="Q", choices=(Choice("yes", "Yes"), Choice("no", "No"))),
        sealed_for_school_1,
    )
    conversation = "a:1;messageid=1 2/3"  # quoted in the path like msrest quotes it
    async with aiohttp.ClientSession() as http:
        client = ConnectorPool(lambda: http)._build(_Credentials(), base)
        # msrest's generated operations (request objects, policies) on the same session, as
        # every call went before, then ours.
        for conversations in (client.conversations._stock, client.conversations):
            assert (await conversations.reply_to_activity(conversation, "act 1", activity)).id
            assert (await conversations.send_to_conversation(conversation, activity)).id
            assert (await conversations.update_activity(conversation, "act 2", activity)).id
            with pytest.raises(ErrorResponseException) as refused:
                await conversations.send_to_conversation("gone", activity)
            assert http_status(refused.value)[0] == 404
    await runner.cleanup()
    keep = ("Accept", "Content-Type", "x-ms-conversation-id", "Authorization", "User-Agent")
    calls = [(m, p, {k: h.get(k) for k in keep}, b) for m, p, h, b in seen]
    for stock_call, our_call in zip(calls[:4], calls[4:], strict=True):
        assert stock_call == our_call
    assert calls[0][0:2] == (
        "POST",
        "/uk/v3/conversations/a:1;messageid=1%202%2F3/activities/act%201",
    )
    assert calls[0][2]["Authorization"] == "Bearer bot-token"
    assert calls[2][0] == "PUT"


_EXTRA = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": maybe(st.sampled_from(["2026-11-21T15:00:00.123Z", "2026-11-21", "x"])),
        "localTimestamp": maybe(st.just("2026-11-21T15:00:00.123+01:00")),
        "replyToId": maybe(st.just("act-1")),
        "locale": maybe(st.just("en-GB")),
        "entities": maybe(
            st.lists(
                record(
                    {"type": st.sampled_from(["mention", "clientInfo"])},
                    {"mentioned": st.just({"id": "28:bot", "name": "schoolbot"}), "text": short},
                ),
                max_size=2,
            )
        ),
        "unknownField": json_values,
    },
)


@pytest.mark.issue(14, 2)
@given(
    st.tuples(teams_activity("http://127.0.0.1:1", "app-id", "tenant"), _EXTRA).map(
        lambda pair: {**pair[0], **pair[1]} if isinstance(pair[0], dict) else pair[0]
    )
)
@settings(max_examples=400, deadline=None)
def test_an_inbound_activity_reads_as_msrest_reads_it(body):
    """wire.from_wire gives the Activity msrest's Deserializer gives, field for field,
    for right shapes and wrong ones alike; what msrest refuses, it refuses."""

    def read(reader):
        try:
            return reader(copy.deepcopy(body))
        except Exception as exc:  # msrest's DeserializationError and friends
            return type(exc)

    expected = read(lambda data: Activity().deserialize(data))
    assert read(lambda data: from_wire(Activity, data)) == expected


@pytest.mark.issue(14, 3)
async def test_cards_waiting_at_shutdown_are_written(teams):
    """Stopping the app writes the cards still waiting, so a press after a restart still
    turns its card into the answer."""
    await teams.say("kim", "friend request")
    [waiting] = teams.adapter.cards.waiting
    await teams.adapter.cards.stop()
    with teams.service.kernel.session() as session:
        rows = session.exec(select(ConversationRef.key).where(ConversationRef.key == waiting))
        assert list(rows) == [waiting]
