"""Teams in a school's team, driven as Teams sends it: channel buttons pressed by people
with no personal chat yet, installs, live question cards, Universal Actions invokes, direct
messages that fail, the privacy and terms pages, and the Teams package's developer details.

Signed activities to the running server, replies to the local fake connector, which (like
Teams) refuses to open a personal chat without a tenant. Buttons in channels are pressed by
people who have never chatted with the bot.
"""

from __future__ import annotations

import json
import logging
import zipfile
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.cli import main
from bot.domain.messages import Message
from bot.domain.turns import StaffMessage
from bot.storage.tables import Outbox
from tests.fakes.fake_connector import APP_ID, TENANT, Call
from tests.fakes.teams_client import TeamsClient, channel_id, running_bot, text_of
from tests.helpers import grant

URGENT_FRIEND_REQUEST = [
    "friend request",
    "1",
    "no",
    "instagram",
    "no",
    "yes, she says she is scared to go home",
    "no",
    "done",
]


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
        teams.service.receive(StaffMessage("teams", reporter, line))
    await teams.adapter.sends.flush()
    [alert] = teams.fake.called("create", conversation=channel_id("dsl"))
    return alert


def private_to(teams: TeamsClient, user: str) -> list[str]:
    """What the bot said in the personal chat it opened for `user` (a "29:" Teams id)."""
    return [text_of(c) for c in teams.fake.called(conversation=f"a:dm-29:{user}") if c.activity]


def opened_chats(teams: TeamsClient) -> list[dict[str, Any]]:
    return [c.body for c in teams.fake.called("create") if not c.activity]


def outbox(teams: TeamsClient) -> list[Outbox]:
    with teams.service.kernel.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.target_kind == "user")).all())


# --- channel buttons pressed by people with no personal chat yet ---------------------------


@pytest.mark.issue(10, 16)
async def test_channel_button_from_someone_never_chatted_opens_their_chat(teams):
    alert = await dsl_alert(teams)
    # Bob has never chatted with the bot and is not DSL: refused, privately, not a 500.
    response = await teams.press("bob", alert, "Acknowledge", channel="dsl")
    assert response.status == 200, await response.text()
    assert "Only the safeguarding (DSL) team" in private_to(teams, "bob")[-1]
    [opened] = opened_chats(teams)
    assert opened["channelData"]["tenant"]["id"] == TENANT
    assert teams.fake.called("update", channel_id("dsl")) == []

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


@pytest.mark.issue(10, 16)
async def test_a_private_reply_that_cannot_be_sent_is_queued_not_lost(teams, clock):
    await teams.adapter.sends.stop()  # the test runs the outbox itself, step by step
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
    await teams.adapter.sends.flush()
    assert "Only the safeguarding (DSL) team" in private_to(teams, "bob")[-1]
    assert [row.status for row in outbox(teams)] == ["sent"]
    assert all(body["channelData"]["tenant"]["id"] == TENANT for body in opened_chats(teams))


@pytest.mark.issue(10, 16)
async def test_tenant_from_the_conversation_when_channel_data_has_none(teams):
    alert = await dsl_alert(teams)
    [card] = [a["content"] for a in alert.activity["attachments"]]
    press = teams.activity("carl", channel="dsl", thread=alert.conversation)
    press["value"] = next(a["data"] for a in card["actions"] if a["title"] == "Acknowledge")
    del press["channelData"]["tenant"]  # only conversation.tenantId is left
    assert (await teams.post(press)).status == 200
    assert "Only the safeguarding (DSL) team" in private_to(teams, "carl")[-1]
    [opened] = opened_chats(teams)
    assert opened["channelData"]["tenant"]["id"] == TENANT


# --- installs, live question cards, Universal Actions invokes, DM failures ----------------


@pytest.mark.issue(10, 18)
async def test_installing_in_a_team_says_how_to_choose_the_channels(teams):
    assert (await install_in_team(teams, "conversationUpdate")).status == 200
    assert (await install_in_team(teams, "installationUpdate")).status == 200  # Teams sends both
    [intro] = teams.fake.called(conversation=channel_id("general"))
    text = text_of(intro)
    assert "'@schoolbot use this channel for dsl'" in text
    assert "'@schoolbot use this channel for slt'" in text
    assert "personal chat" in text


@pytest.mark.issue(10, 18)
async def test_answered_question_cards_show_the_answer_and_lose_their_buttons(teams):
    await teams.say("alice", "friend request")
    asked = await teams.press_on_card("alice", "A pupil (at our school or any other school)")
    [update] = teams.fake.called("update", conversation="a:personal-alice")
    assert update.activity_id == asked.activity_id
    [card] = [a["content"] for a in update.activity["attachments"]]
    assert "actions" not in card
    assert "Who sent the request?" in text_of(update)
    assert "Answered: A pupil (at our school or any other school)" in text_of(update)
    # The next question came after the update, so it is the latest thing in the chat.
    assert "Answered:" not in teams.last("alice")
    assert "actions" in teams.dms("alice")[-1].activity["attachments"][0]["content"]

    # A stale copy of the old card pressed again: it was closed once, it isn't updated again.
    [old] = [a["content"] for a in asked.activity["attachments"]]
    activity = teams.activity("alice", value=old["actions"][1]["data"])
    activity["replyToId"] = asked.activity_id
    assert (await teams.post(activity)).status == 200
    assert len(teams.fake.called("update")) == 1


@pytest.mark.issue(10, 18)
async def test_picked_answers_from_a_list_show_on_the_card_too(teams):
    await teams.say("alice", "friend request")
    await teams.press_on_card("alice", "A pupil (at our school or any other school)")
    await teams.press_on_card("alice", "No")
    asked = next(c for c in reversed(teams.dms("alice")) if c.kind == "reply")
    content = asked.activity["attachments"][0]["content"]
    picker = next(e for e in content["body"] if e["type"] == "Input.ChoiceSet")
    label = picker["choices"][1]["title"]
    await teams.press_on_card("alice", label)
    update = teams.fake.called("update")[-1]
    assert update.activity_id == asked.activity_id
    assert f"Answered: {label}" in text_of(update)
    assert "Input.ChoiceSet" not in json.dumps(update.activity)


def universal_action(teams: TeamsClient, user: str, data: Any, kind: str) -> dict[str, Any]:
    activity = teams.activity(user, kind="invoke")
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {"action": {"type": kind, "verb": "answer", "data": data}}
    return activity


@pytest.mark.issue(10, 18)
async def test_adaptive_card_action_invokes_get_a_proper_answer(teams):
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


@pytest.mark.issue(10, 18)
async def test_a_404_on_a_direct_message_gets_advice_for_a_person(teams, caplog):
    caplog.set_level(logging.INFO)
    await teams.say("ruth", "hello")
    await teams.adapter.sends.stop()  # the test runs the outbox itself
    teams.fake.fail_next("reply", status=404)  # proactive posts reply to a continuation
    teams.service.intake.queue_replies("teams", "aad-ruth", [Message("Your case was picked up.")])
    await teams.adapter.sends.flush()
    assert "can't message a person" in caplog.text
    assert "open schoolbot in Teams" in caplog.text
    assert "installed in the team" not in caplog.text
    assert [row.status for row in outbox(teams)] == ["pending"]


# --- the Teams package's developer details, and the pages it links to ---------------------


@pytest.mark.issue(10, 15)
async def test_the_bot_serves_plain_privacy_and_terms_pages(teams):
    school = teams.service.kernel.pack.school.name
    for path, heading in [("/privacy", "privacy"), ("/terms", "terms of use")]:
        response = await teams.http.get(teams.server.make_url(path))
        assert response.status == 200, path
        assert response.content_type == "text/html"
        page = await response.text()
        assert f"<title>schoolbot at {school}: {heading}</title>" in page
        assert f"contact {school}" in page
    privacy = await (await teams.http.get(teams.server.make_url("/privacy"))).text()
    assert "What it stores" in privacy and "Who can see it" in privacy
    years = teams.service.kernel.pack.records.retention.safeguarding_years
    assert f"{years} years from the child" in privacy  # a safeguarding record's period


def package(tmp_path, **env: str) -> dict[str, Any]:
    """`schoolbot teams package` with these settings; the manifest it wrote."""
    result = CliRunner().invoke(main, ["teams", "package", "--out", "app.zip"], env=env)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        return json.loads(archive.read("manifest.json"))


@pytest.mark.issue(10, 15)
def test_teams_package_developer_details_come_from_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = {
        "MicrosoftAppId": APP_ID,
        "TEAMS_APP_DOMAIN": "bot.school.example.uk",
        "SCHOOLBOT_POLICY": "dukeries-academy",
    }
    for name in ("DEVELOPER_NAME", "WEBSITE_URL", "PRIVACY_URL", "TERMS_URL"):
        base[f"SCHOOLBOT_{name}"] = ""  # as .env.example leaves them
    assert package(tmp_path, **base)["developer"] == {
        "name": "The Dukeries Academy",
        "websiteUrl": "https://bot.school.example.uk/",
        "privacyUrl": "https://bot.school.example.uk/privacy",
        "termsOfUseUrl": "https://bot.school.example.uk/terms",
    }
    chosen = {
        "SCHOOLBOT_DEVELOPER_NAME": "Dukeries Academy Trust",
        "SCHOOLBOT_WEBSITE_URL": "https://www.dukeries.example.uk/",
        "SCHOOLBOT_PRIVACY_URL": "https://www.dukeries.example.uk/privacy-notice",
        "SCHOOLBOT_TERMS_URL": "https://www.dukeries.example.uk/acceptable-use",
    }
    assert package(tmp_path, **{**base, **chosen})["developer"] == {
        "name": "Dukeries Academy Trust",
        "websiteUrl": "https://www.dukeries.example.uk/",
        "privacyUrl": "https://www.dukeries.example.uk/privacy-notice",
        "termsOfUseUrl": "https://www.dukeries.example.uk/acceptable-use",
    }


@pytest.mark.issue(10, 15)
def test_teams_package_says_which_developer_setting_to_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = {"MicrosoftAppId": APP_ID, "TEAMS_APP_DOMAIN": "bot.school.example.uk"}
    cases = [
        ({"SCHOOLBOT_POLICY": "king-jamess-school"}, "SCHOOLBOT_DEVELOPER_NAME must be set"),
        ({"SCHOOLBOT_PRIVACY_URL": "http://plain.example.uk/p"}, "SCHOOLBOT_PRIVACY_URL must"),
    ]
    for env, expected in cases:
        result = CliRunner().invoke(main, ["teams", "package"], env={**base, **env})
        assert result.exit_code != 0
        assert expected in result.output
    assert not (tmp_path / "schoolbot-teams.zip").exists()
