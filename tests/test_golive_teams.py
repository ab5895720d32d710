"""Issue 10 (a school can go live), the Teams points: driven as Teams sends it.

Signed activities to the running server, replies to the local fake connector, which (like
Teams) refuses to open a personal chat without a tenant. Buttons in channels are pressed by
people who have never chatted with the bot.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlmodel import select

from bot.domain.messages import Message
from bot.storage.tables import Outbox
from tests.conftest import grant
from tests.fake_connector import APP_ID, TENANT, Call
from tests.teams_client import TeamsClient, channel_id, running_bot, text_of

URGENT_FRIEND_REQUEST = ["friend request", "1", "no", "instagram", "no", "yes"]


@pytest.fixture
async def teams(sqlite_url, clock, tmp_path, fake):
    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_DSL_CHANNEL=channel_id("dsl")
    ) as client:
        yield client


async def install_in_team(teams: TeamsClient, kind: str = "installationUpdate") -> Any:
    """Teams tells the bot it was added to the team (in its General channel)."""
    activity = teams.activity("admin", channel="general", kind=kind)
    activity["conversation"]["id"] = channel_id("general")
    if kind == "installationUpdate":
        activity["action"] = "add"
    else:
        activity["membersAdded"] = [{"id": f"28:{APP_ID}"}]
        activity["channelData"]["eventType"] = "teamMemberAdded"
    return await teams.post(activity)


async def dsl_alert(teams: TeamsClient, reporter: str = "aad-u1") -> Call:
    """An urgent friend-request alert posted in the DSL channel."""
    assert (await install_in_team(teams)).status == 200
    for line in URGENT_FRIEND_REQUEST:
        teams.service.handle_message("teams", reporter, line)
    await teams.adapter.delivery.flush()
    [alert] = teams.fake.called("create", conversation=channel_id("dsl"))
    return alert


def private_to(teams: TeamsClient, user: str) -> list[str]:
    """What the bot said in the personal chat it opened for `user` (a "29:" Teams id)."""
    return [text_of(c) for c in teams.fake.called(conversation=f"a:dm-29:{user}") if c.activity]


def opened_chats(teams: TeamsClient) -> list[dict[str, Any]]:
    return [c.body for c in teams.fake.called("create") if not c.activity]


def outbox(teams: TeamsClient) -> list[Outbox]:
    with teams.service.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.target_kind == "user")).all())


# --- 16: channel buttons pressed by people with no personal chat yet -----------------------


async def test_golive_16_channel_button_from_someone_never_chatted_opens_their_chat(teams):
    alert = await dsl_alert(teams)
    # Bob has never chatted with the bot and is not DSL: refused, privately, not a 500.
    response = await teams.press("bob", alert, "Acknowledge", channel="dsl")
    assert response.status == 200, await response.text()
    assert "Only the safeguarding (DSL) team" in private_to(teams, "bob")[-1]
    [opened] = opened_chats(teams)
    assert opened["channelData"]["tenant"]["id"] == TENANT
    assert teams.fake.called("update") == []

    # The DSL has never chatted with the bot either: the press works and the card updates.
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    response = await teams.press("dsl", alert, "Acknowledge", channel="dsl")
    assert response.status == 200, await response.text()
    [update] = await teams.fake.wait_for("update")
    assert "Acknowledged by Dsl" in text_of(update)

    # Later private replies reuse the chat that was opened.
    await teams.press("bob", alert, "Acknowledge", channel="dsl")
    assert len(opened_chats(teams)) == 2  # bob's and the DSL's, each opened once
    assert len(private_to(teams, "bob")) == 2


async def test_golive_16_a_private_reply_that_cannot_be_sent_is_queued_not_lost(teams, clock):
    await teams.adapter.delivery.stop()  # the test runs the outbox itself, step by step
    alert = await dsl_alert(teams)
    teams.fake.fail_next("create", status=503)
    press = teams.activity("bob", value=None, channel="dsl", thread=alert.conversation)
    [card] = [a["content"] for a in alert.activity["attachments"]]
    press["value"] = next(a["data"] for a in card["actions"] if a["title"] == "Acknowledge")
    press["replyToId"] = alert.activity_id
    response = await teams.post(press)
    assert response.status == 200, await response.text()
    assert private_to(teams, "bob") == []
    [queued] = outbox(teams)
    assert queued.target == "aad-bob" and queued.status == "pending"

    # Teams redelivers: ignored as a duplicate, and the queued reply still arrives.
    assert (await teams.post(press)).status == 200
    clock.advance(minutes=5)
    await teams.adapter.delivery.flush()
    assert "Only the safeguarding (DSL) team" in private_to(teams, "bob")[-1]
    assert [row.status for row in outbox(teams)] == ["sent"]
    assert all(body["channelData"]["tenant"]["id"] == TENANT for body in opened_chats(teams))


# --- 18: installs, live question cards, Universal Actions invokes, DM failures ------------


async def test_golive_18_installing_in_a_team_says_how_to_choose_the_channels(teams):
    assert (await install_in_team(teams, "conversationUpdate")).status == 200
    assert (await install_in_team(teams, "installationUpdate")).status == 200  # Teams sends both
    [intro] = teams.fake.called(conversation=channel_id("general"))
    text = text_of(intro)
    assert "'@schoolbot use this channel for dsl'" in text
    assert "'@schoolbot use this channel for slt'" in text
    assert "personal chat" in text


async def test_golive_18_answered_question_cards_show_the_answer_and_lose_their_buttons(teams):
    await teams.say("alice", "a pupil sent me a friend request")
    asked = await teams.press_on_card("alice", "A pupil (at our school or any other school)")
    [update] = teams.fake.called("update", conversation="a:personal-alice")
    assert update.activity_id == asked.activity_id
    [card] = [a["content"] for a in update.activity["attachments"]]
    assert "actions" not in card
    assert "Who sent the request?" in text_of(update)
    assert "Your answer: A pupil (at our school or any other school)" in text_of(update)
    # The next question came after the update, so it is the latest thing in the chat.
    assert "Your answer" not in teams.last("alice")
    assert "actions" in teams.dms("alice")[-1].activity["attachments"][0]["content"]

    # A stale copy of the old card pressed again: it was closed once, it isn't updated again.
    [old] = [a["content"] for a in asked.activity["attachments"]]
    activity = teams.activity("alice", value=old["actions"][1]["data"])
    activity["replyToId"] = asked.activity_id
    assert (await teams.post(activity)).status == 200
    assert len(teams.fake.called("update")) == 1


async def test_golive_18_picked_answers_from_a_list_show_on_the_card_too(teams):
    await teams.say("alice", "a pupil sent me a friend request")
    await teams.press_on_card("alice", "A pupil (at our school or any other school)")
    await teams.press_on_card("alice", "No")
    asked = next(c for c in reversed(teams.dms("alice")) if c.kind == "reply")
    content = asked.activity["attachments"][0]["content"]
    picker = next(e for e in content["body"] if e["type"] == "Input.ChoiceSet")
    label = picker["choices"][1]["title"]
    await teams.press_on_card("alice", label)
    update = teams.fake.called("update")[-1]
    assert update.activity_id == asked.activity_id
    assert f"Your answer: {label}" in text_of(update)
    assert "Input.ChoiceSet" not in json.dumps(update.activity)


def universal_action(teams: TeamsClient, user: str, data: Any, kind: str) -> dict[str, Any]:
    activity = teams.activity(user, kind="invoke")
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {"action": {"type": kind, "verb": "answer", "data": data}}
    return activity


async def test_golive_18_adaptive_card_action_invokes_get_a_proper_answer(teams):
    await teams.say("alice", "friend request")
    [card] = teams.dms("alice")[-1].activity["attachments"]
    data = card["content"]["actions"][0]["data"]  # "A pupil ..."
    response = await teams.post(universal_action(teams, "alice", data, "Action.Execute"))
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "My reply is in this chat" in body["value"]
    assert "Who sent the request?" not in teams.last("alice")  # the next question came

    # An Action.Submit inside the invoke, and data that isn't ours: answered, never a 500.
    for kind, value in [("Action.Submit", data), ("Action.Execute", {"other": "bot"})]:
        response = await teams.post(universal_action(teams, "alice", value, kind))
        assert response.status == 200, kind
        body = await response.json()
        assert body["type"] == "application/vnd.microsoft.activity.message"
        assert body["value"] and "{" not in body["value"]


async def test_golive_18_a_404_on_a_direct_message_gets_advice_for_a_person(teams, caplog):
    caplog.set_level(logging.INFO)
    await teams.say("ruth", "hello")
    await teams.adapter.delivery.stop()  # the test runs the outbox itself
    teams.fake.fail_next("reply", status=404)  # proactive posts reply to a continuation
    teams.service.queue_for_user("teams", "aad-ruth", [Message("Your case was picked up.")])
    await teams.adapter.delivery.flush()
    assert "can't message a person" in caplog.text
    assert "open schoolbot in Teams" in caplog.text
    assert "installed in the team" not in caplog.text
    assert [row.status for row in outbox(teams)] == ["pending"]
