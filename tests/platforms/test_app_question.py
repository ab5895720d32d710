"""The app question on every platform says another app can be typed, and takes one."""

from __future__ import annotations

import pytest

from tests.fakes.drivers import PUPIL, Driver
from tests.helpers import dialog_answers


@pytest.mark.issue(23, 11)
async def test_app_question_says_another_app_can_be_typed_and_takes_it(driver: Driver):
    user = driver.user("dee")
    await driver.say(user, "friend request")
    await driver.choose(user, PUPIL)
    asked = await driver.choose(user, "No")
    assert "Which app or site" in asked
    assert "or type the name of another app or site" in asked
    assert "already accepted" in await driver.say(user, "Yubo")
    answers = dialog_answers(driver.service, driver.platform, driver.stored(user))
    assert answers["platform"] == "Yubo"
