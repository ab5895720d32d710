"""Card buttons carry their school inside a signed payload: a button changed on its way
back (another case, another school, a made-up signature) is refused with a clear private
note and nothing changes; one signed for another school is refused in this school's team;
a valid press works, and a replayed or stale one behaves as it always has.

Presses are signed activities over real HTTP to the running server, as Teams sends them,
with the fake connector as the Bot Connector.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.platforms.teams import button_seal, presses, schools
from bot.platforms.teams.button_seal import ButtonSeal, Seal
from bot.storage.tables import Case
from tests.fakes.teams_client import TEAM, TeamsClient, channel_id, running_bot, text_of
from tests.helpers import grant, schools_up_to
from tests.platforms.teams.test_teams_channels_and_package import (
    dsl_alert,
    private_to,
    universal_action,
)


@pytest.fixture
async def teams(sqlite_url, clock, tmp_path, fake):
    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_DSL_CHANNEL=channel_id("dsl")
    ) as client:
        grant(client.service, "aad-dsl", "dsl", platform="teams")
        yield client


def button(alert: Any, label: str) -> dict[str, Any]:
    [card] = [a["content"] for a in alert.activity["attachments"]]
    return dict(next(a["data"] for a in card["actions"] if a["title"] == label))


def server_seal(teams: TeamsClient) -> ButtonSeal:
    """The seal the server signs with (its settings hold the key)."""
    return ButtonSeal.from_settings(Settings(_env_file=None, **teams.fake.settings))


async def press(teams: TeamsClient, alert: Any, data: dict[str, Any], user: str = "dsl") -> str:
    """`user` presses a button with `data` on the alert in the DSL channel; returns the
    private reply the bot sent them."""
    activity = teams.activity(user, value=data, channel="dsl", thread=alert.conversation)
    activity["replyToId"] = alert.activity_id
    response = await teams.post(activity)
    assert response.status == 200, await response.text()
    return private_to(teams, user)[-1]


def acknowledged(teams: TeamsClient) -> datetime | None:
    with teams.service.kernel.session() as session:
        [case] = session.exec(select(Case)).all()
        return case.acknowledged_at


@pytest.mark.issue(25, 4)
async def test_a_valid_press_works_and_its_button_carries_its_school_signed(teams):
    alert = await dsl_alert(teams)
    data = button(alert, "Acknowledge")
    assert data["school"] == 1 and len(data["sig"]) == 43  # HMAC-SHA256, base64url
    assert "acknowledged FR-0001" in await press(teams, alert, data)
    assert acknowledged(teams) is not None
    [update] = await teams.fake.wait_for("update")
    assert "Acknowledged by Dsl" in text_of(update)


@pytest.mark.issue(25, 4)
@pytest.mark.parametrize(
    "changed",
    [
        {"school": 2},  # moved to another school
        {"value": "FR-0002"},  # pointed at another case
        {"action": "case.assign"},  # made to do something else
        {"sig": "A" * 43},  # a made-up signature
        {"school": "1"},  # the school as text
        {"sig": None},  # the signature taken off, the school left on
    ],
)
async def test_an_altered_button_is_refused_and_nothing_changes(teams, changed):
    alert = await dsl_alert(teams)
    data = {**button(alert, "Acknowledge"), **changed}
    data = {k: v for k, v in data.items() if v is not None}
    assert presses.FORGED in await press(teams, alert, data)
    assert acknowledged(teams) is None
    assert teams.fake.called("update") == []
    # The real button still works: the refused press changed nothing.
    assert "acknowledged FR-0001" in await press(teams, alert, button(alert, "Acknowledge"))
    assert acknowledged(teams) is not None


@pytest.mark.issue(25, 4)
async def test_a_button_signed_for_another_school_is_refused_in_this_schools_team(teams):
    schools_up_to(teams.service.engine, 2)
    alert = await dsl_alert(teams)
    data = button(alert, "Acknowledge")
    unsigned = {k: v for k, v in data.items() if k not in ("school", "sig")}
    other_school = server_seal(teams).seal(unsigned, 2)  # as the server signs school 2's

    note = await press(teams, alert, other_school)
    assert presses.OTHER_SCHOOL["team"] in note
    assert acknowledged(teams) is None

    # The team is linked to school 2: now school 1's own button is the stranger here...
    schools_up_to(teams.service.engine, 2)
    now = datetime.now(UTC)
    with teams.service.kernel.session() as session:
        schools.link(session, schools.TEAM, TEAM, 2, by="test", now=now)
        session.commit()
    assert presses.OTHER_SCHOOL["team"] in await press(teams, alert, data)
    assert acknowledged(teams) is None
    # ...until its DSL channel is linked back to school 1 (a channel's link wins).
    with teams.service.kernel.session() as session:
        schools.link(session, schools.CHANNEL, channel_id("dsl"), 1, by="test", now=now)
        session.commit()
    assert "acknowledged FR-0001" in await press(teams, alert, data)
    assert acknowledged(teams) is not None


@pytest.mark.issue(25, 4)
async def test_a_record_button_from_an_unsigned_older_card_says_what_to_do_instead(teams):
    alert = await dsl_alert(teams)
    data = button(alert, "Acknowledge")
    old = {k: v for k, v in data.items() if k not in ("school", "sig")}
    assert presses.OLD_CARD in await press(teams, alert, old)
    assert acknowledged(teams) is None


@pytest.mark.issue(25, 4)
async def test_answer_buttons_in_a_personal_chat_are_sealed_and_checked(teams):
    await teams.say("alice", "friend request")
    [card] = teams.dms("alice")[-1].activity["attachments"]
    data = dict(card["content"]["actions"][0]["data"])  # "A pupil ..."
    assert data["school"] == 1 and data["sig"]

    # Signed for another school: refused, and the question is still the one asked.
    other = server_seal(teams).seal({k: data[k] for k in ("schoolbot", "step", "value")}, 2)
    await teams.say("alice", value=other)
    assert presses.OTHER_SCHOOL["chat"] in teams.last("alice")
    # An answer button from a card sent before buttons were signed is taken as typing the
    # answer would be (anyone may type it): the next question comes.
    await teams.say("alice", value={k: data[k] for k in ("schoolbot", "step", "value")})
    assert "Who sent the request?" not in teams.last("alice")
    assert "has been changed" not in teams.last("alice")


@pytest.mark.issue(25, 4)
async def test_a_forged_button_in_a_universal_action_is_answered_by_the_card(teams):
    alert = await dsl_alert(teams)
    forged = {**button(alert, "Acknowledge"), "value": "FR-0002"}
    activity = universal_action(teams, "dsl", forged, "Action.Execute")
    activity["conversation"] = {"id": alert.conversation, "conversationType": "channel"}
    activity["channelData"].update(team={"id": TEAM}, channel={"id": channel_id("dsl")})
    response = await teams.post(activity)
    assert response.status == 200
    assert (await response.json())["value"] == presses.FORGED
    assert acknowledged(teams) is None


@pytest.mark.issue(25, 4)
async def test_a_replayed_press_is_handled_once_and_a_second_press_as_before(teams):
    alert = await dsl_alert(teams)
    activity = teams.activity(
        "dsl", value=button(alert, "Acknowledge"), channel="dsl", thread=alert.conversation
    )
    assert (await teams.post(activity)).status == 200
    first = acknowledged(teams)
    assert first is not None
    replies = len(private_to(teams, "dsl"))
    assert (await teams.post(activity)).status == 200  # Teams redelivers the same activity
    assert len(private_to(teams, "dsl")) == replies  # ignored: no second reply
    # Pressed again later (a new activity): the case says it was already acknowledged.
    note = await press(teams, alert, button(alert, "Acknowledge"))
    assert "was already acknowledged. Nothing has changed." in note
    assert acknowledged(teams) == first


@pytest.mark.issue(25, 4)
async def test_buttons_signed_with_an_older_key_still_work_after_a_key_change(
    sqlite_url, clock, tmp_path, fake
):
    keys = {"TEAMS_DSL_CHANNEL": channel_id("dsl")}
    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_BUTTON_KEYS="old", **keys
    ) as teams:
        grant(teams.service, "aad-dsl", "dsl", platform="teams")
        alert = await dsl_alert(teams)
    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_BUTTON_KEYS="new,old", **keys
    ) as teams:
        assert "acknowledged FR-0001" in await press(teams, alert, button(alert, "Acknowledge"))
    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_BUTTON_KEYS="new", **keys
    ) as teams:
        assert presses.FORGED in await press(teams, alert, button(alert, "Acknowledge"))


@pytest.mark.issue(25, 4)
def test_the_seal_trusts_only_a_whole_number_school_it_signed_itself():
    seal = ButtonSeal((b"first", b"second"))
    data = {"schoolbot": "action", "action": "case.ack", "value": "FR-0001"}
    sealed = seal.seal(data, 7)
    assert seal.school(sealed) == 7
    assert ButtonSeal((b"second", b"first")).school(sealed) == 7  # any listed key verifies
    assert ButtonSeal((b"other",)).school(sealed) is Seal.FORGED
    for school in (True, 7.0, 0, -1, 2**31, None):
        assert seal.school({**sealed, "school": school}) is Seal.FORGED
    assert seal.school({**sealed, "schoolbot": "other"}) is Seal.FORGED
    assert seal.school({**sealed, "sig": 7}) is Seal.FORGED
    assert seal.school(data) is Seal.UNSIGNED
    # An answer's value is not sealed (typing it does the same); its step and school are.
    choice = seal.seal({"schoolbot": "choice", "step": "sender"}, 1)
    assert seal.school({**choice, "value": "anything"}) == 1
    assert seal.school({**choice, "step": "other"}) is Seal.FORGED


@pytest.mark.issue(25, 4)
def test_a_managed_identity_without_a_button_key_is_told_at_start():
    msi = Settings(_env_file=None, MicrosoftAppId="a", MicrosoftAppType="UserAssignedMSI")
    assert "set TEAMS_BUTTON_KEYS" in (button_seal.status_line(msi) or "")
    keyed = Settings(_env_file=None, MicrosoftAppId="a", TEAMS_BUTTON_KEYS="k")
    assert button_seal.status_line(keyed) is None
