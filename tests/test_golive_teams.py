"""Issue 10 (a school can go live), the Teams points: driven as Teams sends it.

Signed activities to the running server, replies to the local fake connector, which (like
Teams) refuses to open a personal chat without a tenant. Buttons in channels are pressed by
people who have never chatted with the bot.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

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
