"""Issue 22 point 7 as a person meets it on every platform: a question about the rules is
answered with the school's own rule, cited, and the conversation that fits is offered."""

from __future__ import annotations

import pytest

from tests.fakes.drivers import Driver


@pytest.mark.issue(22, 7)
async def test_a_question_about_a_parent_gets_the_schools_rule_and_the_request_offered(
    driver: Driver,
):
    teacher = driver.user("teacher")
    said = await driver.say(teacher, "can I accept my tutee's mum on facebook?")
    assert "contact with parents on personal accounts" in said
    assert "conflict of interest" in said and "(Policy 5.2)" in said  # Dukeries 5.2
    assert "friend or follow request" in said  # offered, if it has happened
    started = await driver.choose(teacher, "A friend or follow request")
    assert "request" in started.lower()  # the conversation it offered has started


@pytest.mark.issue(22, 7)
async def test_a_question_about_photos_gets_the_photos_rule(driver: Driver):
    teacher = driver.user("teacher")
    said = await driver.say(
        teacher, "am I allowed to post photos from sports day on my own instagram?"
    )
    assert "photos of pupils" in said
    assert "(Policy 5.7)" in said


@pytest.mark.issue(22, 7)
async def test_a_question_the_policy_is_silent_on_is_not_guessed(driver: Driver):
    teacher = driver.user("teacher")
    said = await driver.say(teacher, "a journalist contacted me, what do I do?")
    # The Dukeries policy says nothing about journalists contacting staff.
    assert "I can't quote the Social Media Policy on that" in said
    assert "Designated Safeguarding Lead" in said  # who to ask instead
