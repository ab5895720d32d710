"""The other ways into a conversation (slash command, shortcut, App Home) and failed replies."""

from __future__ import annotations

import json

from tests.fakes.fake_slack import blocks_text
from tests.helpers import grant


async def test_slash_command_starts_from_its_text_or_shows_the_menu(bot):
    assert (await bot.command("U1", "friend request")).status == 200
    [question] = await bot.fake.wait_for("chat.postMessage", channel="U1")
    assert "Who sent the request?" in blocks_text(question)

    assert (await bot.command("U2")).status == 200
    [menu] = await bot.fake.wait_for("chat.postMessage", channel="U2")
    assert "What would you like to do?" in blocks_text(menu)


async def test_global_shortcut_resumes_a_half_finished_conversation(bot):
    await bot.say("U3", "friend request")
    assert (await bot.shortcut("U3")).status == 200
    calls = await bot.fake.wait_for("chat.postMessage", channel="U3")
    assert "Who sent the request?" in blocks_text(calls[-1])
    assert "your answers are saved" in blocks_text(calls[-1])


async def test_app_home_lists_own_cases_and_its_buttons_start_a_conversation(bot):
    await bot.say("U4", "friend request")
    await bot.answer("U4", "A pupil (at our school or any other school)", "No", "Instagram")
    await bot.answer("U4", "No", "No")
    assert (await bot.open_home("U4")).status == 200
    [published] = await bot.fake.wait_for("views.publish", user_id="U4")
    view = published.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    shown = json.dumps(view)
    assert view["type"] == "home"
    assert "FR-0001 Friend or follow request: New" in shown

    # Someone else's home shows none of U4's cases.
    await bot.open_home("U5")
    [other] = await bot.fake.wait_for("views.publish", user_id="U5")
    assert "FR-0001" not in json.dumps(other.args["view"])

    start = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["value"] == "cyberbullying"
    )
    await bot.click("U5", "", start["action_id"], start["value"])
    [reply] = await bot.fake.wait_for("chat.postMessage", channel="U5")
    assert "Online abuse" in blocks_text(reply)


async def test_reply_lost_to_a_network_error_is_queued_and_delivered(bot, caplog):
    # The SDK retries a dropped connection once; fail both tries.
    bot.fake.disconnect_next("chat.postMessage", times=2)
    assert (await bot.dm("U6", "friend request")).status == 200
    [late] = await bot.fake.wait_for("chat.postMessage", channel="U6")
    assert "Who sent the request?" in blocks_text(late)
    assert "network error" in caplog.text


async def test_form_that_slack_would_not_open_is_explained(bot):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    await bot.say("U8", "friend request")
    await bot.answer("U8", "A pupil (at our school or any other school)", "No", "Instagram")
    await bot.answer("U8", "No", "No")
    bot.fake.fail_next("views.open", error="expired_trigger_id")
    await bot.click("UDSL", "CDSL", "case.note", "FR-0001")
    [notice] = await bot.fake.wait_for("chat.postEphemeral", user="UDSL")
    assert "didn't open the form" in blocks_text(notice)
