"""Question cards in a Teams personal chat: closed when answered however they were
answered, a stale one's button gets the same short note as in Slack, and the app question
takes another app, picked as "Other" or typed.

Driven as Teams sends it: signed activities to /api/messages, a card's Action.Submit as a
message whose value is the button's data (and replyToId the card), an Action.Execute as an
adaptiveCard/action invoke. The fake connector updates only activities the bot sent in
that conversation, as the Bot Connector does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.dispatch.text import STALE_OTHER_REPORT
from bot.platforms.teams.cards import TYPE_OTHER
from tests.fakes.teams_client import (
    TeamsClient,
    assert_valid_card,
    cards_in,
    find_submit,
    personal,
    text_of,
)
from tests.helpers import dialog_answers

PARENT = "A parent or carer"
TYPED = ("a pupil", "no", "insta", "no", "no")  # sender, family, app, accepted, worries
SHOWN = ("A pupil (at our school or any other school)", "No", "Instagram", "No", "No")
APP_QUESTION = "Which app or site was it on?"


def question_cards(teams: TeamsClient, user: str) -> list[Any]:
    return [c for c in teams.dms(user) if c.kind != "update" and "actions" in text_of(c)]


def press(teams: TeamsClient, user: str, card_call: Any, data: dict[str, Any]) -> dict:
    activity = teams.activity(user, value=data)
    activity["replyToId"] = card_call.activity_id
    return activity


@pytest.mark.issue(23, 11)
async def test_teams_cards_answered_by_typing_are_closed_and_their_old_buttons_get_the_slack_note(
    teams,
):
    await teams.say("ana", "friend request")
    for word in TYPED:  # FR-0001, finished by typing
        await teams.say("ana", word)
    assert "Your reference is FR-0001" in teams.last("ana")
    asked = question_cards(teams, "ana")
    assert len(asked) == 5

    # Each card answered in words shows its answer and has no buttons or list left.
    updates = teams.fake.called("update", personal("ana"))
    assert [u.activity_id for u in updates] == [c.activity_id for c in asked]
    for update, shown in zip(updates, SHOWN, strict=True):
        [card] = cards_in(update)
        assert_valid_card(card)
        assert "actions" not in card and "Input." not in json.dumps(card)
        assert f"Answered: {shown}" in text_of(update)

    # A new report at the same question; FR-0001's first card pressed on a client that
    # still shows its buttons: the same short note as Slack's, as plain text, and no card
    # is changed to claim that answer.
    await teams.say("ana", "friend request")
    before = len(teams.fake.called("update"))
    old = cards_in(asked[0])[0]
    response = await teams.post(press(teams, "ana", asked[0], find_submit(old, PARENT)))
    assert response.status == 200
    reply = teams.dms("ana")[-1]
    assert reply.activity.get("text") == STALE_OTHER_REPORT
    assert not cards_in(reply)
    assert len(teams.fake.called("update")) == before
    assert dialog_answers(teams.service, "teams", "aad-ana") == {}

    # The same button as an Action.Execute: the note is shown by the card, not in the chat.
    replies = len(teams.dms("ana"))
    invoke = teams.activity("ana", kind="invoke")
    invoke.update(name="adaptiveCard/action", replyToId=asked[0].activity_id)
    invoke["value"] = {"action": {"type": "Action.Execute", "data": find_submit(old, PARENT)}}
    response = await teams.post(invoke)
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == STALE_OTHER_REPORT
    assert len(teams.dms("ana")) == replies
    assert dialog_answers(teams.service, "teams", "aad-ana") == {}

    await teams.answer("ana", PARENT)  # the new report's own card still answers it
    assert dialog_answers(teams.service, "teams", "aad-ana") == {"sender": "parent"}


@pytest.mark.issue(23, 11)
async def test_teams_reminder_card_is_closed_when_the_question_is_answered(teams, clock):
    await teams.say("bea", "friend request")
    clock.advance(minutes=31)
    assert teams.service.sweep() == 1  # "your report is unfinished", with the question
    await teams.adapter.sends.flush()
    *_, reminder = await teams.fake.wait_for("reply", 2, conversation=personal("bea"))
    assert "Who sent the request?" in text_of(reminder)
    await teams.say("bea", "a parent")
    updated = {u.activity_id for u in teams.fake.called("update", personal("bea"))}
    assert reminder.activity_id in updated


@pytest.mark.issue(23, 11)
async def test_teams_app_question_offers_other_with_a_hint_and_takes_a_typed_app(teams):
    await teams.say("cai", "friend request")
    await teams.say("cai", "a pupil")
    await teams.say("cai", "no")
    app_call = teams.dms("cai")[-1]
    [card] = cards_in(app_call)
    assert_valid_card(card)
    assert APP_QUESTION in text_of(app_call)
    assert "type the name of another app or site" in text_of(app_call)
    [picker] = [e for e in card["body"] if e["type"] == "Input.ChoiceSet"]
    assert picker["choices"][-1]["title"] == "Other"
    [box] = [e for e in card["body"] if e["type"] == "Input.Text"]

    # "Other" picked and nothing typed: asked to type it, nothing changes.
    other = {**find_submit(card, "Other"), box["id"]: ""}
    await teams.say("cai", value=other)
    assert teams.dms("cai")[-1].activity.get("text") == TYPE_OTHER
    assert "platform" not in dialog_answers(teams.service, "teams", "aad-cai")

    # Typed in the box under "Other": that app is the answer, and the card shows it.
    await teams.post(press(teams, "cai", app_call, {**other, box["id"]: "BeReal"}))
    assert dialog_answers(teams.service, "teams", "aad-cai")["platform"] == "BeReal"
    assert "Answered: BeReal" in text_of(teams.fake.called("update", personal("cai"))[-1])

    # Typed in the chat instead, on a new report: taken too.
    await teams.say("cai", "cancel")
    await teams.say("cai", "friend request")
    for word in ("a pupil", "no", "yubo"):
        await teams.say("cai", word)
    assert dialog_answers(teams.service, "teams", "aad-cai")["platform"] == "Yubo"  # as it is spelt
