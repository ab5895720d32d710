"""Answer buttons in Slack belong to one conversation and one question.

Driven as Slack sends it: signed DM events for typed answers and signed block_actions for
presses, against the running app; the fake Web API answers chat.update only for messages
it posted and chat.postEphemeral only for a person in that conversation, as Slack does.
"""

from __future__ import annotations

import pytest

from bot.dispatch.text import STALE_EARLIER, STALE_OTHER_REPORT
from bot.platforms.slack.adapter import SlackAdapter
from tests.fakes.fake_slack import blocks_text
from tests.helpers import dialog_answers

PARENT = "A parent or carer"
PUPIL = "A pupil (at our school or any other school)"
TYPED = ("a pupil", "no", "insta", "no", "no")  # sender, family, app, accepted, worries
SHOWN = (PUPIL, "No", "Instagram", "No", "No")


@pytest.mark.issue(23, 10)
async def test_slack_button_from_an_earlier_report_changes_nothing_and_typed_answers_close_questions(
    bot,
):
    dm = "DU1"
    await bot.say("U1", "friend request")
    for word in TYPED:  # FR-0001, finished by typing
        await bot.say("U1", word)
    assert "Your reference is FR-0001" in bot.last_dm("U1")
    questions = [
        c for c in bot.fake.called("chat.postMessage", channel=dm) if "actions" in str(c.args)
    ]
    assert len(questions) == 5
    assert "or type the name of another app or site" in blocks_text(questions[2])

    # Every question answered in words shows its answer and has no buttons left.
    updates = bot.fake.called("chat.update", channel=dm)
    assert [u.args["ts"] for u in updates] == [q.response["ts"] for q in questions]
    for update, shown in zip(updates, SHOWN, strict=True):
        assert update.response["ok"] is True
        assert f"Answered: *{shown}*" in blocks_text(update)
        assert not [b for b in update.args["blocks"] if b["type"] == "actions"]

    # A new friend request, at the same first question.
    await bot.say("U1", "friend request")
    posted = len(bot.fake.called("chat.postMessage", channel=dm))

    # FR-0001's first question, pressed on a phone that still shows its buttons.
    await bot.press_on_message("U1", questions[0], PARENT)
    [note] = await bot.fake.wait_for("chat.postEphemeral", channel=dm, user="U1")
    assert note.args["text"] == STALE_OTHER_REPORT
    assert note.response["ok"] is True
    assert dialog_answers(bot.service, "slack", "U1") == {}  # the new report is untouched
    assert len(bot.fake.called("chat.postMessage", channel=dm)) == posted  # nothing posted

    # The new report's own buttons answer it; pressing one of them twice changes nothing.
    new_question = bot.fake.called("chat.postMessage", channel=dm)[-1]
    await bot.press_on_message("U1", new_question, PARENT)
    await bot.fake.wait_for("chat.postMessage", posted + 1, channel=dm)
    assert dialog_answers(bot.service, "slack", "U1") == {"sender": "parent"}
    await bot.press_on_message("U1", new_question, PUPIL)
    notes = await bot.fake.wait_for("chat.postEphemeral", 2, channel=dm, user="U1")
    assert notes[-1].args["text"] == STALE_EARLIER
    assert dialog_answers(bot.service, "slack", "U1") == {"sender": "parent"}


@pytest.mark.issue(23, 10)
async def test_slack_question_asked_again_keeps_its_buttons_until_answered(bot):
    dm = "DU2"
    await bot.say("U2", "friend request")
    await bot.say("U2", "a pupil")
    await bot.say("U2", "perhaps")  # not a yes or no: the question is asked again
    assert (
        bot.fake.called("chat.update", channel=dm)[-1]
        .args["blocks"][-1]["elements"][0]["text"]
        .startswith("Answered:")
    )
    before = len(bot.fake.called("chat.update", channel=dm))
    family = [
        c
        for c in bot.fake.called("chat.postMessage", channel=dm)
        if "member of your family" in c.args["text"]
    ]
    assert len(family) == 2 and len(bot.fake.called("chat.update", channel=dm)) == before
    await bot.say("U2", "no")
    updates = bot.fake.called("chat.update", channel=dm)[before:]
    assert sorted(u.args["ts"] for u in updates) == sorted(c.response["ts"] for c in family)
    assert all("Answered: *No*" in blocks_text(u) for u in updates)


@pytest.mark.issue(23, 10)
async def test_slack_reminder_question_is_closed_when_answered_in_words(bot, clock):
    await bot.say("U3", "friend request")
    clock.advance(minutes=31)
    assert bot.service.sweep() == 1  # "your report is unfinished", with the question
    bot.server.app[SlackAdapter.APP_KEY].sends.kick()
    [reminder] = await bot.fake.wait_for("chat.postMessage", channel="U3")
    assert "Who sent the request?" in blocks_text(reminder)
    await bot.say("U3", "a parent")
    updated = {u.args["ts"] for u in bot.fake.called("chat.update", channel="DU3")}
    assert reminder.response["ts"] in updated
