"""Case alerts: they name who reported (at every detail level, in Slack and Teams as a
mention), an urgent one mentions the DSL team, and an updated one says its status. Over
real HTTP for Slack and Teams, through BotService otherwise.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from bot.domain.policy import parse_pack
from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from tests.fakes.fake_slack import blocks_text
from tests.fakes.slack_harness import DSL_CHANNEL
from tests.fakes.teams_client import cards_in, channel_id, install_in_team, mention, text_of
from tests.helpers import BROWN_JONES_REQUEST, grant, report_fr, seen, tell, the_case


def pack_with_detail(detail: str):
    text = (resources.files("bot.policies") / "default.toml").read_text()
    return parse_pack(text.replace('detail = "standard"', f'detail = "{detail}"'), detail)


# --- who reported --------------------------------------------------------------------------


@pytest.mark.issue(10, 5)
@pytest.mark.parametrize("detail", ["minimal", "standard", "full"])
def test_alert_names_the_reporter_at_every_detail_level(service_factory, detail):
    service = service_factory(pack_with_detail(detail))
    grant(service, "dsl1", "dsl")
    report_fr(service)
    [alert] = service.intake.inbox("console", "dsl1")
    assert "<@alice>" in alert.text  # a mention, so each platform can render it its way
    assert "Reported by Alice Smith." in seen(alert)
    assert the_case(service, "FR-0001").reporter_name == "Alice Smith"


@pytest.mark.issue(10, 5)
def test_account_request_alert_and_case_view_name_the_requester(service_factory):
    service = service_factory("default")
    grant(service, "head", "headteacher")
    grant(service, "dsl1", "dsl")
    assert "AC-0001" in tell(service, "req", "Ms Req", *BROWN_JONES_REQUEST)
    [alert] = service.intake.inbox("console", "head")
    assert "Requested by Ms Req." in seen(alert)
    report_fr(service)
    [view] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    assert "Reported by Alice Smith on" in seen(view)


@pytest.mark.issue(10, 5)
async def test_slack_alert_mentions_the_reporter(bot):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    await bot.say("U1", "friend request")
    await bot.answer(
        "U1", "A pupil (at our school or any other school)", "No", "Instagram", "No", "No"
    )
    [alert] = await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    assert "Reported by <@U1>." in json.dumps(alert.args["blocks"])


@pytest.mark.issue(10, 5)
async def test_teams_alert_mentions_the_reporter(teams):
    await install_in_team(teams)
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    await mention(teams, "dsl", "dsl", "use this channel for dsl")
    await teams.say("alice", "friend request")
    await teams.answer("alice", "A pupil (at our school or any other school)", "No")
    await teams.say("alice", "instagram")
    await teams.answer("alice", "No", "No")
    [alert] = await teams.fake.wait_for("create", conversation=channel_id("dsl"))
    # The line naming the reporter is the activity's text, with a mention entity for them.
    assert alert.activity["text"] == "Reported by <at>Alice</at>."
    assert alert.activity["entities"] == [
        {
            "type": "mention",
            "text": "<at>Alice</at>",
            "mentioned": {"id": "aad-alice", "name": "Alice"},
        }
    ]
    [card] = cards_in(alert)
    assert "<@" not in json.dumps(card) and "msteams" not in card


# --- urgent alerts mention the team ---------------------------------------------------------------


@pytest.mark.issue(10, 17)
async def test_slack_urgent_alert_mentions_the_dsl_team_and_routine_does_not(bot):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    grant(bot.service, "UDEP", "deputy_dsl", platform="slack")
    grant(bot.service, "UTEAMS", "dsl", platform="teams")  # another platform: not mentioned
    pupil = "A pupil (at our school or any other school)"
    await bot.say("U1", "friend request")
    await bot.answer("U1", pupil, "No", "Instagram", "No", "No")
    [routine] = await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    await bot.say("U2", "friend request")
    await bot.answer("U2", pupil, "No", "Instagram", "No")
    await bot.say("U2", "yes, she says she is scared to go home")
    await bot.answer("U2", "No", "Done")
    _, urgent = await bot.fake.wait_for("chat.postMessage", 2, channel=DSL_CHANNEL)
    # The message's own text (what Slack notifies from) and its blocks both mention them.
    assert "<@UDSL>" in urgent.args["text"] and "<@UDEP>" in urgent.args["text"]
    assert "For your attention: <@UDSL> and <@UDEP>." in json.dumps(urgent.args["blocks"])
    assert "UTEAMS" not in blocks_text(urgent)
    assert "<@UDSL>" not in blocks_text(routine) and "<@UDEP>" not in blocks_text(routine)


@pytest.mark.issue(10, 17)
async def test_teams_urgent_alert_mentions_the_dsl_team_and_routine_does_not(teams):
    await install_in_team(teams)
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    grant(teams.service, "aad-dep", "deputy_dsl", platform="teams")
    await mention(teams, "dsl", "dsl", "use this channel for dsl")
    pupil = "A pupil (at our school or any other school)"
    for user, worrying in (("alice", "No"), ("bob", "Yes")):
        await teams.say(user, "friend request")
        await teams.answer(user, pupil, "No")
        await teams.say(user, "instagram")
        await teams.answer(user, "No", worrying)
        if worrying == "Yes":
            await teams.say(user, "she says she is scared to go home")  # what worries them
            await teams.answer(user, "No", "Done")  # nobody in danger now; no screenshots
    routine, urgent = await teams.fake.wait_for("create", 2, conversation=channel_id("dsl"))
    mentioned = {e["mentioned"]["id"] for e in urgent.activity.get("entities") or []}
    assert mentioned == {"aad-dsl", "aad-dep", "aad-bob"}  # the team, and the reporter
    assert urgent.activity["text"].startswith(
        "For your attention: <at>Designated Safeguarding Lead</at> and <at>Deputy DSL</at>."
    )
    routine_ids = {e["mentioned"]["id"] for e in routine.activity.get("entities") or []}
    assert routine_ids == {"aad-alice"}
    assert "For your attention" not in text_of(routine)


# --- an updated alert says its status ---------------------------------------------


@pytest.mark.issue(10, 22)
def test_an_updated_alert_says_its_status_not_new(service_factory):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    report_fr(service)
    service.intake.inbox("console", "dsl1")
    service.press(ButtonPress("console", "dsl1", cards.CASE_ACK, "FR-0001"))
    [acked] = service.intake.inbox("console", "dsl1")
    assert "A friend or follow request case for the DSL team, acknowledged." in acked.text
    service.press(ButtonPress("console", "dsl1", cards.CASE_CLOSE, "FR-0001", text="Advice given"))
    [closed] = service.intake.inbox("console", "dsl1")
    assert "now closed" in closed.text
    assert "A new" not in closed.text and "A new" not in acked.text
