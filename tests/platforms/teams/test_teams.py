"""Teams end to end: signed activities to our running server, connector calls to a local fake.

The conversations, alerts in channels and card buttons. Security, malformed requests and
send retries are in test_teams_http.py.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.storage.tables import ApprovalDecision, Evidence
from tests.fakes.fake_connector import APP_ID
from tests.fakes.teams_client import (
    TeamsClient,
    assert_all_cards_valid,
    channel_id,
    install_in_team,
    mention,
    personal,
    running_bot,
    text_of,
)
from tests.helpers import DUKERIES_FORM, grant


def private_to(teams: TeamsClient, user: str) -> list[str]:
    """Private replies to a button pressed in a channel: a 1:1 chat the bot opened."""
    return [text_of(c) for c in teams.fake.called(conversation=f"a:dm-29:{user}") if c.activity]


async def test_friend_request_ends_in_dsl_channel_alert_and_card_updates(teams):
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    await install_in_team(teams)
    refused = await mention(teams, "bob", "dsl", "use this channel for dsl")
    assert "Only the safeguarding (DSL) team" in refused
    chosen = await mention(teams, "dsl", "dsl", "use this channel for DSL")
    assert "DSL) alerts will be posted in this channel" in chosen

    await teams.say("alice", "friend request")
    assert "Who sent the request?" in teams.last("alice")
    await teams.answer("alice", "A pupil (at our school or any other school)", "No")
    await teams.say("alice", "instagram")  # typed answers work too
    await teams.answer("alice", "No", "No")
    assert "Your reference is FR-0001" in teams.last("alice")
    assert "(Policy 5.4)" in teams.last("alice")

    [alert] = await teams.fake.wait_for("create", conversation=channel_id("dsl"))
    assert "Friend or follow request FR-0001" in text_of(alert)

    # Someone without the DSL role: refused privately, and the card is not changed.
    assert (await teams.press("bob", alert, "Acknowledge", channel="dsl")).status == 200
    assert "Only the safeguarding (DSL) team" in private_to(teams, "bob")[-1]
    assert teams.fake.called("update", channel_id("dsl")) == []

    before = len(teams.dms("alice"))
    await teams.press("dsl", alert, "Acknowledge", channel="dsl")
    [update] = await teams.fake.wait_for("update", conversation=channel_id("dsl"))
    assert update.activity_id == alert.activity_id
    assert update.conversation == alert.conversation
    assert "Acknowledged by Dsl" in text_of(update)
    notices = await teams.fake.wait_for(None, before + 1, conversation="a:personal-alice")
    assert "picked up by Dsl" in text_of(notices[-1])

    await teams.press("dsl", alert, "Close with outcome", text="Spoke to the pupil's family")
    await teams.fake.wait_for("update", 2, channel_id("dsl"))
    notices = await teams.fake.wait_for(None, before + 2, conversation="a:personal-alice")
    # The outcome stays in the record: the reporter is told it's closed.
    assert "is now closed" in text_of(notices[-1])
    assert "Spoke to the pupil's family" not in text_of(notices[-1])
    assert assert_all_cards_valid(teams.fake) >= 8


async def test_cyberbullying_with_two_files_a_pasted_image_and_a_login_page(
    sqlite_url, clock, tmp_path, fake
):
    async with running_bot(
        sqlite_url,
        "dukeries-academy",
        clock,
        tmp_path,
        fake,
        TEAMS_SLT_CHANNEL=channel_id("slt"),
    ) as teams:
        await install_in_team(teams)
        fake.downloads["one.png"] = (b"\x89PNG\r\n\x1a\nfirst", "image/png")
        fake.downloads["two.pdf"] = (b"%PDF-1.4 second", "application/octet-stream")
        fake.downloads["paste.jpg"] = (b"\xff\xd8\xffthird", "image/jpeg")
        await teams.say("carol", "someone keeps posting about me online")
        await teams.answer("carol", "Me", "Facebook")
        await teams.say("carol", "https://facebook.com/post/1")
        await teams.say("carol", "yesterday 8pm")
        await teams.say("carol", "Insulting posts about my teaching")
        assert "Please send screenshots" in teams.last("carol")

        def shared(name: str) -> dict[str, Any]:
            return {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "contentUrl": f"https://school.sharepoint.com/personal/carol/{name}",
                "name": name,
                "content": {"downloadUrl": fake.download_url(name), "uniqueId": name},
            }

        await teams.say("carol", "", attachments=[shared("one.png"), shared("two.pdf")])
        assert "That's 2 files so far" in teams.last("carol")
        pasted = {"contentType": "image/*", "contentUrl": fake.image_url("paste.jpg")}
        html = {"contentType": "text/html", "content": "<p><img src='x'></p>"}
        await teams.say("carol", "", attachments=[pasted, html])
        assert "That's 3 files so far" in teams.last("carol")

        before = len(teams.dms("carol"))
        await teams.say("carol", "", attachments=[shared("missing.png")])  # a sign-in page
        replies = [text_of(c) for c in teams.dms("carol")[before:]]
        assert "sign-in page" in replies[0]
        assert "Please send screenshots" in replies[-1]  # asked again; nothing is stuck

        await teams.answer("carol", "Done", "No", "No", "No")
        assert "CB-0001" in teams.last("carol")
        [alert] = await fake.wait_for("create", conversation=channel_id("slt"))
        assert "CB-0001" in text_of(alert)
        with teams.service.kernel.session() as session:
            stored = sorted((e.filename, e.content_type) for e in session.exec(select(Evidence)))
        assert stored == [
            ("image.png", "image/jpeg"),
            ("one.png", "image/png"),
            ("two.pdf", "application/pdf"),
        ]
        assert_all_cards_valid(fake)


async def test_multi_stage_approval_with_card_buttons_and_a_non_approver(teams):
    grant(teams.service, "aad-so", "safeguarding_officer", platform="teams")
    grant(teams.service, "aad-ict", "ict_manager", platform="teams")
    grant(teams.service, "aad-principal", "principal", platform="teams")
    await install_in_team(teams)
    chosen = await mention(teams, "so", "slt", "use this channel for slt")
    assert "SLT) alerts will be posted" in chosen
    await teams.say("ict", "hello")  # the ICT manager has chatted with the bot before

    await teams.say("req", "new official account")
    for line in DUKERIES_FORM:
        await teams.say("req", line)
    await teams.answer("req", "Yes")
    assert "Send it" in teams.last("req") or "confirm" in teams.last("req").lower()
    await teams.say("req", "yes")
    assert "AC-0001" in teams.last("req")
    [alert] = await teams.fake.wait_for("create", conversation=channel_id("slt"))
    assert "stage 1 of 3" in text_of(alert)

    await teams.press("ict", alert, "Approve", channel="slt")
    *_, refusal = await teams.fake.wait_for(None, 2, conversation="a:personal-ict")
    assert "Only the Safeguarding Officer" in text_of(refusal)
    assert teams.fake.called("update", channel_id("slt")) == []

    await teams.press("so", alert, "Approve", channel="slt")
    await teams.press("so", alert, "Approve", channel="slt")  # a double click decides once
    [first, *_] = await teams.fake.wait_for("update", conversation=channel_id("slt"))
    assert "stage 2 of 3" in text_of(first)
    assert "already been decided" in private_to(teams, "so")[-1]

    updated = teams.fake.called("update", channel_id("slt"))[-1]
    updated_card = type(alert)("create", alert.conversation, updated.activity, alert.activity_id)
    await teams.press("ict", updated_card, "Approve", channel="slt")
    await teams.fake.wait_for("update", 2, channel_id("slt"))
    stage3 = type(alert)(
        "create",
        alert.conversation,
        teams.fake.called("update", channel_id("slt"))[-1].activity,
        alert.activity_id,
    )
    assert "stage 3 of 3" in text_of(stage3)
    told = len(teams.dms("req"))
    await teams.press("principal", stage3, "Reject", text="Audience is under 13", channel="slt")
    await teams.fake.wait_for("update", 3, channel_id("slt"))
    assert "Rejected" in text_of(teams.fake.called("update", channel_id("slt"))[-1])
    await teams.fake.wait_for(None, told + 1, conversation=personal("req"))
    assert "Reason: Audience is under 13" in teams.last("req")
    with teams.service.kernel.session() as session:
        decisions = session.exec(select(ApprovalDecision)).all()
    assert [(d.stage, d.approve) for d in decisions] == [(0, True), (1, True), (2, False)]
    assert_all_cards_valid(teams.fake)


async def test_messages_in_a_channel_get_help_and_personal_install_greets(teams):
    reply = await mention(teams, "dave", "random", "hello")
    assert "message me in a personal chat" in reply
    activity = teams.activity("erin", kind="conversationUpdate")
    activity["membersAdded"] = [{"id": f"28:{APP_ID}"}]
    assert (await teams.post(activity)).status == 200
    assert "What would you like to do?" in teams.last("erin")
    assert_all_cards_valid(teams.fake)
