"""The platform drivers: the terminal, Slack over the fake Web API and Teams over the fake
connector, each driven as a person uses it (typed words, the answer buttons of the latest
question). Platform tests take the `driver` fixture (tests/platforms/conftest.py) and run
on all three."""

from __future__ import annotations

import io
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
