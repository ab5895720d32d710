"""The platform drivers: the terminal, Slack over the fake Web API and Teams over the fake
connector, each driven as a person uses it (typed words, the answer buttons of the latest
question). Platform tests take the `driver` fixture (tests/platforms/conftest.py) and run
on all three."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Protocol

from bot.dispatch import BotService
from bot.platforms.console.chat import ConsoleChat

PUPIL = "A pupil (at our school or any other school)"


class Driver(Protocol):
    platform: str
    service: BotService

    def user(self, name: str) -> str: ...
    def stored(self, user: str) -> str: ...  # the id the bot keeps for them
    async def say(self, user: str, text: str) -> str: ...
    async def choose(self, user: str, label: str) -> str: ...
    async def later(self, user: str, expect: str) -> str: ...  # what the bot sent them unasked


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

    async def later(self, user: str, expect: str) -> str:
        chat, out = self.chats[user]
        start = len(out.getvalue())
        chat.check_inbox()  # what the terminal shows before the next prompt
        return out.getvalue()[start:]


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

    async def later(self, user: str, expect: str) -> str:
        from tests.fakes.slack_harness import blocks_text

        async def sent() -> str:  # the send loop posts to the user id, which Slack opens as a DM
            return "\n".join(
                blocks_text(c) for c in self.bot.fake.called("chat.postMessage", channel=user)
            )

        return await _until(sent, expect)


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

    async def later(self, user: str, expect: str) -> str:
        from tests.fakes.teams_client import text_of

        async def sent() -> str:
            return "\n".join(text_of(c) for c in self.teams.dms(user))

        return await _until(sent, expect)

    def stored(self, user: str) -> str:
        return f"aad-{user}"


async def _until(read, expect: str, timeout: float = 10) -> str:
    """What `read` gives once it holds `expect` (the send loops post in the background), or
    what it holds at the timeout, for the test's assertion to show."""
    deadline = time.monotonic() + timeout
    while expect not in (seen := await read()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return seen
