"""One contract every chat platform passes: the terminal, Slack over the fake Web API and
Teams over the fake connector, each driven as a person uses it (typed words, the answer
buttons of the latest question). A new platform adds a driver here and must pass it all."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Protocol

import pytest

from bot.dispatch import BotService
from bot.platforms.console.chat import ConsoleChat
from bot.storage import repository as repo
from tests.fakes.fake_connector import FakeConnector
from tests.fakes.slack_harness import running_slack_bot
from tests.fakes.teams_client import running_bot
from tests.helpers import make_service

PUPIL = "A pupil (at our school or any other school)"


class Driver(Protocol):
    platform: str
    service: BotService

    def user(self, name: str) -> str: ...
    def stored(self, user: str) -> str: ...  # the id the bot keeps for them
    async def say(self, user: str, text: str) -> str: ...
    async def choose(self, user: str, label: str) -> str: ...


class Terminal:
    platform = "console"

    def __init__(self, service: BotService):
        self.service = service
        self.chats: dict[str, tuple[ConsoleChat, io.StringIO]] = {}

    def user(self, name: str) -> str:
        return name

    def stored(self, user: str) -> str:
        return user

    async def say(self, user: str, text: str) -> str:
        if user not in self.chats:
            out = io.StringIO()
            self.chats[user] = (ConsoleChat(self.service, user, out=out), out)
        chat, out = self.chats[user]
        start = len(out.getvalue())
        chat.handle_line(text, lambda: None)
        return out.getvalue()[start:]

    async def choose(self, user: str, label: str) -> str:
        return await self.say(user, label)  # the terminal takes the button's words


class Slack:
    platform = "slack"

    def __init__(self, bot):
        self.bot, self.service = bot, bot.service

    def user(self, name: str) -> str:
        return "U" + name.upper()

    def stored(self, user: str) -> str:
        return user

    async def say(self, user: str, text: str) -> str:
        await self.bot.say(user, text)
        return self.bot.last_dm(user)

    async def choose(self, user: str, label: str) -> str:
        await self.bot.answer(user, label)
        return self.bot.last_dm(user)


class Teams:
    platform = "teams"

    def __init__(self, teams):
        self.teams, self.service = teams, teams.service

    def user(self, name: str) -> str:
        return name

    async def say(self, user: str, text: str) -> str:
        await self.teams.say(user, text)
        return self.teams.last(user)

    async def choose(self, user: str, label: str) -> str:
        await self.teams.answer(user, label)
        return self.teams.last(user)

    def stored(self, user: str) -> str:
        return f"aad-{user}"


@pytest.fixture(params=["terminal", "slack", "teams"])
async def driver(request, sqlite_url, clock, tmp_path) -> AsyncIterator[Driver]:
    if request.param == "terminal":
        yield Terminal(make_service(sqlite_url, "dukeries-academy", clock, tmp_path / "evidence"))
    elif request.param == "slack":
        async with running_slack_bot(sqlite_url, clock, tmp_path) as bot:
            yield Slack(bot)
    else:
        connector = FakeConnector().start()
        try:
            async with running_bot(
                sqlite_url, "dukeries-academy", clock, tmp_path, connector
            ) as teams:
                yield Teams(teams)
        finally:
            connector.close()


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
