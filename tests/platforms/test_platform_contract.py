"""One contract every chat platform passes: the terminal, Slack over the fake Web API and
Teams over the fake connector, each driven as a person uses it (typed words, the answer
buttons of the latest question). A new platform adds a driver (tests/fakes/drivers.py) and
must pass it all."""

from __future__ import annotations

from bot.storage import repository as repo
from tests.fakes.drivers import PUPIL, Driver


async def test_a_report_goes_from_free_text_to_its_reference(driver: Driver):
    user = driver.user("alice")
    assert "Who sent the request?" in await driver.say(user, "friend request")
    assert "member of your family" in await driver.choose(user, PUPIL)
    assert "Which app or site" in await driver.choose(user, "No")
    assert "already accepted" in await driver.say(user, "instagram")
    assert "worries you" in await driver.choose(user, "No")
    done = await driver.choose(user, "No")
    assert "Your reference is FR-0001" in done


async def test_words_nobody_understands_get_the_menu(driver: Driver):
    user = driver.user("bob")
    assert "What would you like to do?" in await driver.say(user, "hello")
    assert "Who sent the request?" in await driver.choose(user, "A friend or follow request")


async def test_cancel_ends_the_report_and_keeps_nothing(driver: Driver):
    user = driver.user("cat")
    await driver.say(user, "friend request")
    await driver.choose(user, PUPIL)
    reply = await driver.say(user, "cancel")
    assert "I've stopped. Nothing was sent to anyone." in reply
    with driver.service.kernel.session() as session:
        assert repo.get_dialog(session, driver.platform, driver.stored(user)) is None


async def test_help_and_back_are_never_taken_as_answers(driver: Driver):
    user = driver.user("dan")
    await driver.say(user, "friend request")
    await driver.choose(user, PUPIL)
    assert "member of your family" in await driver.say(user, "help")
    assert "Who sent the request?" in await driver.say(user, "back")
    with driver.service.kernel.session() as session:
        state = repo.get_dialog(session, driver.platform, driver.stored(user)).state
    assert "family" not in state["answers"] and state["step"] == "sender"


async def test_words_given_with_a_no_are_kept(driver: Driver):
    user = driver.user("eve")
    await driver.say(user, "friend request")
    await driver.choose(user, PUPIL)
    await driver.say(user, "no, he's in my tutor group")
    with driver.service.kernel.session() as session:
        state = repo.get_dialog(session, driver.platform, driver.stored(user)).state
    assert state["answers"]["family"] is False
    assert state["answers"]["family_words"] == "no, he's in my tutor group"
