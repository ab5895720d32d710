"""Issue 23 points 3-5, 7 and 8 as a person meets them on the terminal, Slack and Teams
(pack dukeries-academy): a disclosure typed with a yes reaches the DSL, a bare yes is
asked what worries them, screenshots can be sent; a fake account contacting pupils reaches
the DSL; one instruction after accepting a request; a complaint logged in chat says who
must agree the reply; a date of birth kept only where a safeguarding record needs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.storage.tables import Case, Evidence, Outbox
from tests.fakes.drivers import Driver, Slack, Teams, Terminal, send_file
from tests.fakes.workspace_harness import tiny_png
from tests.helpers import add_account, grant

DISCLOSURE = "yeah she sent me a message saying she's being hurt at home"


def cases(driver: Driver) -> list[Case]:
    with driver.service.kernel.session() as session:
        return list(session.exec(select(Case).order_by(Case.id)))  # type: ignore[arg-type]


def team_alerts(driver: Driver, team: str, ref: str) -> list[Outbox]:
    with driver.service.kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.target_kind == "team"))
        return [row for row in rows if row.target == team and ref in str(row.message)]


def dsl(driver: Driver) -> str:
    user = driver.user("dsl")
    grant(driver.service, driver.stored(user), "dsl", platform=driver.platform)
    return user


async def attach(driver: Driver, user: str, name: str, tmp_path: Path) -> str:
    """A screenshot sent as each platform sends one; what the person reads back."""
    return await send_file(driver, user, name, tiny_png(), tmp_path)


async def up_to_the_worry(driver: Driver, user: str, *, accepted: str = "No") -> None:
    await driver.say(user, "a pupil sent me a friend request")
    await driver.choose(user, "No")  # not family
    await driver.choose(user, "Instagram")
    await driver.choose(user, accepted)


@pytest.mark.issue(23, 3)
async def test_3_a_disclosure_with_a_yes_reaches_the_dsl_and_screenshots_can_be_sent(
    driver: Driver, tmp_path: Path
):
    lead = dsl(driver)
    user = driver.user("tess")
    await up_to_the_worry(driver, user)
    asked = await driver.say(user, DISCLOSURE)
    assert "in danger right now" in asked  # the words were enough: no "What worries you?"
    offered = await driver.choose(user, "No")
    assert "screenshots of the messages that worry you" in offered
    if isinstance(driver, Terminal):
        assert "/attach" in offered
    kept = await attach(driver, user, "messages.png", tmp_path)
    assert "Got it" in kept and "messages.png" in kept
    done = await driver.choose(user, "Done")
    assert "FR-0001" in done and "don't delete anything" in done
    [case] = cases(driver)
    assert case.urgent and case.team == "dsl"
    assert case.details["concerning_words"] == DISCLOSURE
    with driver.service.kernel.session() as session:
        [kept_file] = session.exec(select(Evidence).where(Evidence.case_id == case.id))
        assert kept_file.filename == "messages.png"
    # The DSL's urgent alert (this pack's alerts are minimal: X-CONFIDENTIAL) points to the
    # record, and `case FR-0001` shows the words; a 'standard' pack's alert says they are there.
    [alert] = team_alerts(driver, "dsl", "FR-0001")
    assert alert.message["urgent"] and "Details are in the case record" in alert.message["text"]
    view = await driver.say(lead, "case FR-0001")
    assert f"In their words: {DISCLOSURE}" in view
    assert "messages.png" in view


@pytest.mark.issue(23, 3)
async def test_3_a_bare_yes_is_asked_what_worries_them_and_help_is_not_taken_as_words(
    driver: Driver,
):
    lead = dsl(driver)
    user = driver.user("uma")
    await up_to_the_worry(driver, user)
    asked = await driver.choose(user, "Yes")
    assert "What worries you?" in asked
    helped = await driver.say(user, "help")
    assert "What worries you?" in helped and "Nothing is sent" in helped
    worry = "she said her stepdad checks her phone and she is scared of him"
    assert "in danger right now" in await driver.say(user, worry)
    await driver.choose(user, "No")
    done = await driver.choose(user, "Done")
    assert "FR-0001" in done
    [case] = cases(driver)
    assert case.details["worry"] == worry and "help" not in str(case.details)
    assert case.urgent
    view = await driver.say(lead, "case FR-0001")
    assert f"What worries you? {worry}" in view


@pytest.mark.issue(23, 4)
async def test_4_a_fake_school_account_asking_pupils_for_numbers_reaches_the_dsl(
    driver: Driver,
):
    lead = dsl(driver)
    user = driver.user("vic")
    await driver.say(user, "there's a fake school account on instagram")
    await driver.choose(user, "The school")
    await driver.say(user, "@our_school_real")
    await driver.say(user, "It messages pupils asking for their phone numbers")
    await driver.choose(user, "Done")
    asked = await driver.choose(user, "Yes")  # messaging pupils or parents
    assert "Is it contacting pupils" in asked
    await driver.choose(user, "Yes, pupils")
    told = await driver.choose(user, "No")  # nobody in danger right now
    assert "IM-0001" in told
    assert "Designated Safeguarding Lead as urgent" in told and "groom" in told
    [case] = cases(driver)
    assert (case.team, case.urgent) == ("dsl", True)
    assert "contacting_pupils" in case.flags
    assert team_alerts(driver, "dsl", "IM-0001")
    assert "IM-0001" in await driver.say(lead, "case IM-0001")


@pytest.mark.issue(23, 5)
async def test_5_after_accepting_one_instruction_and_the_dsl_talk_is_not_skipped(
    driver: Driver,
):
    dsl(driver)
    user = driver.user("wyn")
    await up_to_the_worry(driver, user, accepted="Yes")
    told = await driver.choose(user, "No")  # nothing worrying
    assert "remove the connection now" in told
    assert "Please decline" not in told  # not two instructions that disagree
    assert "(Policy 5.4)" in told
    # Dukeries 5.4: staff "must discuss this with" the DSL.
    assert "talk it through" in told
    assert "You don't need to do anything else" not in told
    # 5.4's Twitter pointer is for pupils, never for another young person.
    other = driver.user("xan")
    await driver.say(other, "a friend request")
    await driver.choose(other, "Another young person")
    await driver.choose(other, "No")
    await driver.choose(other, "TikTok")
    await driver.choose(other, "No")
    told = await driver.choose(other, "No")
    assert "Please decline the request" in told and "Twitter" not in told


@pytest.mark.issue(23, 7)
async def test_7_a_complaint_logged_in_chat_says_the_principal_must_agree_the_reply(
    driver: Driver,
):
    user = driver.user("mo")
    add_account(driver.service, contacts=(f"{driver.platform}:{driver.stored(user)}",))
    await driver.say(user, "log a comment")
    await driver.choose(user, "PE Twitter")
    await driver.choose(user, "A parent or carer")
    await driver.say(user, "This is the third time my complaint has been ignored")
    await driver.say(user, "today 2pm")
    await driver.choose(user, "No")  # not offensive
    told = await driver.choose(user, "Yes")  # a complaint
    assert "Logged as CM-0001" in told
    assert "agreed by the Principal before it is sent. (Policy 6.7)" in told


@pytest.mark.issue(23, 8)
async def test_8_a_date_of_birth_is_kept_only_on_a_child_safeguarding_case(driver: Driver):
    dsl(driver)
    user = driver.user("yas")
    for worried in (False, True):
        await driver.say(user, "a former pupil sent me a friend request")
        await driver.say(user, "04/09/2010")  # their date of birth: 16 today
        await driver.choose(user, "No")
        await driver.choose(user, "Snapchat")
        await driver.choose(user, "No")
        if worried:
            await driver.say(user, "yes he says he wants to hurt himself")
            await driver.choose(user, "No")
            await driver.choose(user, "Done")
        else:
            await driver.choose(user, "No")
    routine, safeguarding = cases(driver)
    assert not routine.urgent and routine.details["age"] == {"age": 16}
    assert safeguarding.urgent and safeguarding.details["age"] == {"born_on": "2010-09-04"}


@pytest.mark.issue(23, 3)
async def test_3_words_that_are_not_a_yes_or_no_are_kept_with_the_answer_that_follows(
    driver: Driver,
):
    lead = dsl(driver)
    user = driver.user("zia")
    await up_to_the_worry(driver, user)
    words = "she told me she is being hurt at home"
    if isinstance(driver, Slack):  # a note, then the question again: read both
        from tests.fakes.slack_harness import blocks_text

        fake = driver.bot.fake
        before = len(fake.called("chat.postMessage", channel=f"D{user}"))
        await driver.say(user, words)
        posted = await fake.wait_for("chat.postMessage", before + 2, channel=f"D{user}")
        asked = "\n".join(blocks_text(p) for p in posted[before:])
    else:
        asked = await driver.say(user, words)
    if isinstance(driver, Teams):
        from tests.fakes.teams_client import text_of

        asked = "\n".join(text_of(c) for c in driver.teams.dms(user)[-2:])
    assert "I've kept what you wrote. Please answer yes or no." in asked
    assert "in danger right now" in await driver.choose(user, "Yes")  # not asked again
    await driver.choose(user, "No")
    assert "FR-0001" in await driver.choose(user, "Done")
    [case] = cases(driver)
    assert case.details["concerning_words"] == words and case.urgent
    assert f"In their words: {words}" in await driver.say(lead, "case FR-0001")
