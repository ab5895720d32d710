"""Issue 23, points 20 to 23 (and what a returning teacher reads, 29), as a person meets
them on every platform: natural answers are taken and their words kept, a group is not a
member of staff, "no" is not an app, a message nobody understood says so, and a file sent
twice is kept once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.domain.policy import load_pack
from bot.storage.tables import Case, Evidence
from tests.fakes.drivers import Driver
from tests.helpers import DUKERIES_FORM, dialog_answers
from tests.platforms.test_safeguarding_on_every_platform import attach

# Someone reporting posts about themselves, as far as the link question.
ABOUT_ME = ["someone is posting nasty things about me online", "Me", "Facebook"]
ACCOUNT = "I want to set up a new official account"


async def says(driver: Driver, user: str, *lines: str) -> str:
    reply = ""
    for line in lines:
        reply = await driver.say(user, line)
    return reply


def answers(driver: Driver, user: str) -> dict:
    found = dialog_answers(driver.service, driver.platform, driver.stored(user))
    assert found is not None, "the conversation ended"
    return found


@pytest.mark.issue(23, 20)
async def test_natural_answers_are_taken_and_their_words_kept(driver: Driver):
    amy = driver.user("amy")
    reply = await says(driver, amy, "I got a friend request", "A former pupil", "about 16 i think")
    assert "Are they a member of your family?" in reply, reply
    assert answers(driver, amy)["age"] == {"age": 16}
    assert answers(driver, amy)["age_words"] == "about 16 i think"

    ben = driver.user("ben")
    reply = await says(driver, ben, *ABOUT_ME, "there isnt one its a snap story")
    assert "When was it posted?" in reply, reply
    assert answers(driver, ben)["url"] is None
    assert answers(driver, ben)["url_words"] == "there isnt one its a snap story"
    reply = await driver.say(ben, "this morning about 10")
    assert "what happened?" in reply, reply
    assert answers(driver, ben)["posted_at"] == "2026-11-21T10:00+00:00"
    assert answers(driver, ben)["posted_at_words"] == "this morning about 10"
    reply = await says(driver, ben, "They called me names", "done", "yes", "no its a parent")
    assert "Does it raise a safeguarding concern" in reply, reply
    assert answers(driver, ben)["pupil_author"] == "no"
    assert answers(driver, ben)["pupil_author_words"] == "no its a parent"

    cat = driver.user("cat")
    said = ["I posted something I shouldn't have", "3", "Facebook", "A joke", "yesterday"]
    reply = await says(driver, cat, *said)
    assert "Have you deleted the post already?" in reply, reply
    await driver.say(cat, "not yet, i want to talk to someone first")
    with driver.service.kernel.session() as session:  # finished: its case keeps the words
        details = session.exec(select(Case)).all()[-1].details
    assert details["deleted"] is False
    assert details["deleted_words"] == "not yet, i want to talk to someone first"

    dan = driver.user("dan")
    reply = await says(driver, dan, ACCOUNT, *DUKERIES_FORM, "not sure")
    assert "Here's your request" in reply, reply
    assert answers(driver, dan)["minimum_age"] == "unsure"


@pytest.mark.issue(23, 20)
async def test_natural_answers_last_summer_and_a_month_hint_for_a_leaving_date(driver: Driver):
    driver.service.kernel.pack = load_pack("king-jamess-school")  # asks when they left
    eve = driver.user("eve")
    reply = await says(driver, eve, "I got a friend request", "A former pupil", "ages ago")
    assert "Try a month and year, like July 2023" in reply, reply
    assert "19/11" not in reply and "yesterday" not in reply
    reply = await driver.say(eve, "last summer")
    assert "How old are they now?" in reply, reply
    assert answers(driver, eve)["left_on"] == "2026-07-31"


@pytest.mark.issue(23, 21)
async def test_staff_count_app_question_and_app_names(driver: Driver):
    dan = driver.user("dan")
    run_by = DUKERIES_FORM.index("Jo Smith, Al Brown")
    reply = await says(driver, dan, ACCOUNT, *DUKERIES_FORM[:run_by], "Pupils and parents")
    assert "not a member of staff" in reply and "Who will run it?" in reply, reply
    assert "run_by" not in answers(driver, dan)
    reply = await driver.say(dan, "Jo Smith, Al Brown")
    assert answers(driver, dan)["run_by"] == ["Jo Smith", "Al Brown"]

    amy = driver.user("amy")
    reply = await says(driver, amy, "I got a friend request", "A parent or carer", "no", "no")
    assert "type the name of the app or site" in reply and "Which app or site" in reply, reply
    assert "platform" not in answers(driver, amy)
    await driver.say(amy, "linkedin")
    assert answers(driver, amy)["platform"] == "LinkedIn"


@pytest.mark.issue(23, 22)
async def test_unrecognised_first_message_says_it_was_not_understood(driver: Driver):
    amy = driver.user("amy")
    reply = await driver.say(amy, "blorp wibble")
    assert "not sure I understood" in reply, reply
    assert "Hi, I'm the school's social media helper" not in reply
    bob = driver.user("bob")
    assert "Hi, I'm the school's social media helper" in await driver.say(bob, "hello")


@pytest.mark.issue(23, 23)
async def test_same_file_attached_twice_is_stored_once(driver: Driver, tmp_path: Path):
    ben = driver.user("ben")
    await says(driver, ben, *ABOUT_ME, "no link", "yesterday", "They called me names")
    first = await attach(driver, ben, "shot.png", tmp_path)
    assert "1 file so far" in first, first
    again = await attach(driver, ben, "shot.png", tmp_path)
    assert "already attached" in again and "1 file so far" in again, again
    assert len(answers(driver, ben)["evidence"]) == 1
    reply = await says(driver, ben, "done", "no", "no", "no")
    assert "Your reference is" in reply, reply
    with driver.service.kernel.session() as session:
        assert len(session.exec(select(Evidence)).all()) == 1


@pytest.mark.issue(23, 29)
async def test_resuming_at_the_evidence_step_says_how_many_files(driver: Driver, tmp_path: Path):
    ben = driver.user("ben")
    await says(driver, ben, *ABOUT_ME, "no link", "yesterday", "They called me names")
    await attach(driver, ben, "shot.png", tmp_path)
    back = driver.service.greet(driver.platform, driver.stored(ben))
    assert "That's 1 file so far." in back[0].text, back[0].text


@pytest.mark.issue(23, 30)
async def test_wording_of_the_account_requests_questions_and_summary(driver: Driver):
    dan = driver.user("dan")
    reply = await says(driver, dan, ACCOUNT, "PE Twitter")
    assert "Which platform will it be on?" in reply and "is it on" not in reply, reply
    reply = await says(driver, dan, *DUKERIES_FORM[1:], "yes")
    assert "Go-live date: 1 December 2026" in reply and "2026-12-01" not in reply, reply
