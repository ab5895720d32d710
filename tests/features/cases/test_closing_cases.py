"""Closing a case: the outcome stays in the record for the team, and the reporter gets a
short message (with the DSL's own words if given), from the terminal, Slack and Teams."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import pytest

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.platforms.console.chat import ConsoleChat
from tests.fakes.fake_slack import blocks_text
from tests.fakes.slack_harness import DSL_CHANNEL
from tests.fakes.teams_client import cards_in, channel_id, install_in_team, mention, text_of
from tests.helpers import grant, report_fr, the_case


@pytest.mark.issue(10, 7)
def test_outcome_stays_in_the_record_and_the_reporter_gets_a_short_message(
    service_factory,
):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    report_fr(service, user="bob", name="Bob")
    outcome = "Pupil's mother spoken to; pupil at risk, referred to early help"
    [done] = service.press(
        ButtonPress(
            "console",
            "dsl1",
            cards.CASE_CLOSE,
            "FR-0001",
            text=outcome,
            name="Dee",
            message="Thank you!",
        )
    ).replies
    assert "told with your message" in done.text
    [notice] = service.intake.inbox("console", "alice")
    assert notice.text == (
        "Your friend or follow request report FR-0001 is now closed. Thank you for reporting "
        "it.\nA message from Dee: Thank you!"
    )
    service.press(
        ButtonPress("console", "dsl1", cards.CASE_CLOSE, "FR-0002", text=outcome, name="Dee")
    )
    [short] = service.intake.inbox("console", "bob")
    assert "is now closed" in short.text and outcome not in short.text
    assert the_case(service, "FR-0001").outcome == outcome
    [team_view] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    assert f"Outcome (for the record): {outcome}" in team_view.text
    [own_view] = service.receive(
        StaffMessage("console", "alice", "case FR-0001", name="Alice Smith")
    ).replies
    assert "Status: Closed" in own_view.text and outcome not in own_view.text


@pytest.mark.issue(10, 7)
def test_terminal_close_asks_for_both_and_says_who_reads_them(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    out = io.StringIO()
    chat = ConsoleChat(service, "dsl1", out=out, name="Dee")
    chat.run(io.StringIO("\nClose with outcome\nReferred to early help\nThanks for telling us\n"))
    shown = out.getvalue()
    assert cards.CLOSE_HINT in shown
    assert f"{cards.CLOSE_OUTCOME} (FR-0001, friend or follow request): " in shown
    assert "Message to the reporter for FR-0001 (optional: press Enter to leave it out): " in shown
    [notice] = service.intake.inbox("console", "alice")
    assert notice.text.endswith("A message from Dee: Thanks for telling us")
    assert "early help" not in notice.text


@pytest.mark.issue(10, 7)
async def test_slack_close_form_has_a_separate_message_and_says_who_reads_it(bot):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    await bot.say("U1", "friend request")
    await bot.answer(
        "U1", "A pupil (at our school or any other school)", "No", "Instagram", "No", "No"
    )
    await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    await bot.click("UDSL", DSL_CHANNEL, "case.close", "FR-0001")
    [opened] = await bot.fake.wait_for("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [(b["block_id"], b["label"]["text"], b.get("optional", False)) for b in inputs] == [
        ("reason", cards.CLOSE_OUTCOME, False),
        ("message", cards.CLOSE_MESSAGE, True),
    ]
    assert cards.CLOSE_HINT in json.dumps(view["blocks"])

    before = len(bot.fake.called("chat.postMessage", channel="U1"))
    payload = {
        "type": "view_submission",
        "user": {"id": "UDSL"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "schoolbot_reason",
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "reason": {"text": {"type": "plain_text_input", "value": "Early help"}},
                    "message": {"text": {"type": "plain_text_input", "value": "Thanks, U1"}},
                }
            },
        },
    }
    response = await bot.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    assert response.status == 200
    calls = await bot.fake.wait_for("chat.postMessage", before + 1, channel="U1")
    notice = blocks_text(calls[-1])
    assert "is now closed" in notice and "Thanks, U1" in notice
    assert "Early help" not in notice
    assert the_case(bot.service, "FR-0001").outcome == "Early help"


@pytest.mark.issue(10, 7)
async def test_teams_close_card_has_a_separate_message_and_says_who_reads_it(teams):
    await install_in_team(teams)
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    await mention(teams, "dsl", "dsl", "use this channel for dsl")
    await teams.say("alice", "friend request")
    await teams.answer("alice", "A pupil (at our school or any other school)", "No")
    await teams.say("alice", "instagram")
    await teams.answer("alice", "No", "No")
    [alert] = await teams.fake.wait_for("create", conversation=channel_id("dsl"))
    [card] = cards_in(alert)
    [close] = [a for a in card["actions"] if a["title"] == "Close with outcome"]
    body = close["card"]["body"]
    assert body[0]["text"] == cards.CLOSE_HINT
    assert [(b["id"], b["label"], b.get("isRequired", False)) for b in body[1:]] == [
        ("text", cards.CLOSE_OUTCOME, True),
        ("message", cards.CLOSE_MESSAGE, False),
    ]
    before = len(teams.dms("alice"))
    value = {**close["card"]["actions"][0]["data"], "text": "Early help", "message": "Thanks!"}
    activity = teams.activity("dsl", value=value, channel="dsl", thread=alert.conversation)
    assert (await teams.post(activity)).status == 200
    notices = await teams.fake.wait_for(None, before + 1, conversation="a:personal-alice")
    assert "is now closed" in text_of(notices[-1]) and "Thanks!" in text_of(notices[-1])
    assert "Early help" not in text_of(notices[-1])
