"""Answer buttons belong to the conversation that showed them: a button from a finished
report, or from before conversation ids, does not answer the question now open; it says
the question was already answered and asks the open one again.

Slack is driven with signed block_actions (the shape Slack sends for a button on a
message) against the running app; Teams with card submits to /api/messages; the terminal
with ConsoleChat reading a scripted stdin.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.fake_slack import Call, blocks_text
from tests.fakes.teams_client import cards_in, find_submit
from tests.fakes.terminal import after, chat
from tests.helpers import CB_ABOUT_ME, dialog_answers

FIRST_QUESTION = "Who sent the request?"
PARENT = "A parent or carer"
PUPIL = "A pupil (at our school or any other school)"
FINISH = ("No", "Instagram", "No", "No")  # family, app, accepted, concerning


# --- Slack ----------------------------------------------------------------------------


def slack_button(call: Call, label: str) -> dict[str, Any]:
    return next(
        e
        for b in call.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )


async def press_on_message(bot: Any, user: str, call: Call, label: str) -> None:
    """Press `label` on the message `call` posted, with the payload Slack sends for it."""
    await bot.press_on_message(user, call, label)


@pytest.mark.issue(10, 4)
async def test_old_slack_button_from_a_finished_report_does_not_answer_the_new_one(
    bot,
):
    dm = "DU1"
    await bot.say("U1", "friend request")
    [first_question] = bot.fake.called("chat.postMessage", channel=dm)
    assert FIRST_QUESTION in blocks_text(first_question)

    # Pressed on the message itself, the question shows the answer and loses its buttons.
    await press_on_message(bot, "U1", first_question, PUPIL)
    [update] = await bot.fake.wait_for("chat.update", channel=dm)
    assert update.args["ts"] == first_question.response["ts"]
    assert update.response["ok"] is True
    assert FIRST_QUESTION in blocks_text(update)
    assert f"Answered: *{PUPIL}*" in blocks_text(update)
    assert not [b for b in update.args["blocks"] if b["type"] == "actions"]

    await bot.fake.wait_for("chat.postMessage", 2, channel=dm)
    await bot.answer("U1", *FINISH)
    assert "Your reference is FR-0001" in bot.last_dm("U1")

    await bot.say("U1", "friend request")
    assert FIRST_QUESTION in bot.last_dm("U1")
    before = len(bot.fake.called("chat.postMessage", channel=dm))

    # FR-0001's first question, pressed now (an old client, or a scrolled-back phone):
    # a note only they see, and the new report's question stays the latest message.
    await press_on_message(bot, "U1", first_question, PARENT)
    [note] = await bot.fake.wait_for("chat.postEphemeral", channel=dm, user="U1")
    assert "That question has already been answered" in blocks_text(note)
    assert len(bot.fake.called("chat.postMessage", channel=dm)) == before
    assert dialog_answers(bot.service, "slack", "U1") == {}

    # That old message is marked as answered, without claiming what the answer was.
    updates = await bot.fake.wait_for("chat.update", 2, channel=dm)
    assert "already answered" in blocks_text(updates[-1])
    assert PARENT not in blocks_text(updates[-1]).split("already answered")[-1]

    # The new question's own buttons still work.
    await bot.answer("U1", PARENT)
    assert dialog_answers(bot.service, "slack", "U1") == {"sender": "parent"}


@pytest.mark.issue(10, 4)
async def test_slack_button_from_before_conversation_ids_is_stale(bot):
    await bot.say("U5", "friend request")
    last = bot.fake.called("chat.postMessage", channel="DU5")[-1]
    parent = slack_button(last, PARENT)
    # A button posted by the previous version: its action id names only the step.
    legacy = "choice:friend_request.sender:" + parent["action_id"].rsplit(":", 1)[1]
    await bot.click("U5", "DU5", legacy, parent["value"])
    [note] = await bot.fake.wait_for("chat.postEphemeral", channel="DU5", user="U5")
    assert "That question has already been answered" in blocks_text(note)
    assert dialog_answers(bot.service, "slack", "U5") == {}
    await bot.answer("U5", PARENT)  # the buttons asked again are bound, and work
    assert dialog_answers(bot.service, "slack", "U5") == {"sender": "parent"}


@pytest.mark.issue(10, 4)
async def test_old_slack_menu_button_does_not_answer_a_report_in_progress(bot):
    await bot.say("U7", "hello")
    [menu] = bot.fake.called("chat.postMessage", channel="DU7")
    for line in CB_ABOUT_ME[:-1]:  # up to "what happened?", which takes any words
        await bot.say("U7", line)
    before = dialog_answers(bot.service, "slack", "U7")
    await press_on_message(bot, "U7", menu, "A new official account")
    [note] = await bot.fake.wait_for("chat.postEphemeral", channel="DU7", user="U7")
    assert "That question has already been answered" in blocks_text(note)
    assert dialog_answers(bot.service, "slack", "U7") == before


# --- Teams ----------------------------------------------------------------------------


@pytest.mark.issue(10, 4)
async def test_old_teams_card_button_from_a_finished_report_does_not_answer_the_new_one(
    teams,
):
    await teams.say("ana", "friend request")
    [old_card] = cards_in(teams.dms("ana")[-1])
    assert FIRST_QUESTION in json.dumps(old_card)
    await teams.answer("ana", PUPIL, *FINISH)
    assert "Your reference is FR-0001" in teams.last("ana")

    await teams.say("ana", "friend request")
    assert FIRST_QUESTION in teams.last("ana")
    await teams.say("ana", value=find_submit(old_card, PARENT))
    assert "That question has already been answered" in teams.last("ana")
    assert dialog_answers(teams.service, "teams", "aad-ana") == {}

    # A card from before conversation ids (its data names only the step, and, older than
    # signed buttons, carries no school or signature) is stale too.
    legacy = {**find_submit(old_card, PARENT), "step": "friend_request.sender"}
    for signed_part in ("school", "sig"):
        legacy.pop(signed_part, None)
    await teams.say("ana", value=legacy)
    assert "That question has already been answered" in teams.last("ana")
    assert dialog_answers(teams.service, "teams", "aad-ana") == {}

    await teams.answer("ana", PARENT)
    assert dialog_answers(teams.service, "teams", "aad-ana") == {"sender": "parent"}


# --- the terminal -------------------------------------------------------------------


@pytest.mark.issue(10, 4)
def test_old_terminal_answer_from_a_finished_report_does_not_answer_the_new_one(
    service_factory,
):
    service = service_factory()
    other_window: list[str] = []

    def finish_and_start_again_elsewhere() -> None:
        other_window.append(
            chat(service, "alice", "1", "no", "instagram", "no", "no", "friend request")
        )

    # This window shows FR-0001's first question; another window finishes that report
    # and starts a new one; then "3" (A parent or carer) is typed here.
    output = chat(service, "alice", "friend request", finish_and_start_again_elsewhere, "3", "3")
    assert "Your reference is FR-0001" in other_window[0]
    assert f"3) {PARENT}" in after(output, "friend request")
    _, stale, fresh = output.split("you> 3\n")
    assert "That question has already been answered" in stale
    assert FIRST_QUESTION in stale  # the new report's question, with its own numbers
    # The second "3" answers the question now on screen: the new report's.
    assert "already been answered" not in fresh
    assert dialog_answers(service, "console", "alice") == {"sender": "parent"}
