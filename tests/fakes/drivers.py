"""The platform drivers: the terminal, Slack over the fake Web API and Teams over the fake
connector, each driven as a person uses it (typed words, the answer buttons of the latest
question). Platform tests take the `driver` fixture (tests/platforms/conftest.py) and run
on all three."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
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
    # Press a record button (Acknowledge, Reopen) on the newest message to them that has
    # it, filling in what its form asks (the words, then the optional second box).
    async def press(self, user: str, label: str, *form: str) -> str: ...


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

    async def press(self, user: str, label: str, *form: str) -> str:
        """The terminal presses a button by its words; its form is the next lines typed."""
        if user not in self.chats:
            await self.say(user, "")
        chat, out = self.chats[user]
        start, lines = len(out.getvalue()), list(form)
        chat.handle_line(label, lambda: lines.pop(0) if lines else None)
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

    async def press(self, user: str, label: str, *form: str) -> str:
        """Press it as Slack sends it; a button that asks for words opens a modal, which
        is submitted with `form`. What the bot says back arrives in the DM."""
        import json
        from urllib.parse import urlencode

        from tests.fakes.slack_harness import blocks_text

        fake = self.bot.fake
        dms = [*fake.called("chat.postMessage", channel=f"D{user}")]
        button = next(
            e
            for call in reversed(dms)
            for b in _blocks(call)
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == label
        )
        before = len(dms)
        opened = len(fake.called("views.open"))
        await self.bot.click(user, f"D{user}", button["action_id"], button["value"])
        if form:
            [*_, view_call] = await fake.wait_for("views.open", opened + 1)
            view = view_call.args["view"]
            view = json.loads(view) if isinstance(view, str) else view
            values = {"reason": {"text": {"type": "plain_text_input", "value": form[0]}}}
            if len(form) > 1:
                values["message"] = {"text": {"type": "plain_text_input", "value": form[1]}}
            payload = {
                "type": "view_submission",
                "user": {"id": user},
                "team": {"id": "T1"},
                "api_app_id": "A1",
                "view": {
                    "id": "V1",
                    "type": "modal",
                    "callback_id": "schoolbot_reason",
                    "private_metadata": view["private_metadata"],
                    "state": {"values": values},
                },
            }
            body = urlencode({"payload": json.dumps(payload)})
            await self.bot.post(body, "application/x-www-form-urlencoded")
        calls = await fake.wait_for("chat.postMessage", before + 1, channel=f"D{user}")
        return "\n".join(blocks_text(c) for c in calls[before:])


def _blocks(call) -> list[dict]:
    import json

    blocks = call.args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


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

    async def press(self, user: str, label: str, *form: str) -> str:
        """Press it on the newest card in their personal chat that has it; a button that
        asks for words carries them in its card's boxes ("text", "message")."""
        from tests.fakes.teams_client import cards_in, find_submit, text_of

        teams = self.teams
        call = next(
            c
            for c in reversed(teams.dms(user))
            for card in cards_in(c)
            if any(a.get("title") == label for a in card.get("actions", []))
        )
        [card] = cards_in(call)
        value = find_submit(card, label)
        for box, words in zip(("text", "message"), form, strict=False):
            value[box] = words
        before = len(teams.dms(user))
        activity = teams.activity(user, value=value)
        activity["replyToId"] = call.activity_id
        assert (await teams.post(activity)).status == 200

        deadline = time.monotonic() + 10
        while len(teams.dms(user)) <= before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return "\n".join(text_of(c) for c in teams.dms(user)[before:])


async def _until(read, expect: str, timeout: float = 10) -> str:
    """What `read` gives once it holds `expect` (the send loops post in the background), or
    what it holds at the timeout, for the test's assertion to show."""
    deadline = time.monotonic() + timeout
    while expect not in (seen := await read()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return seen


async def send_file(driver: Driver, user: str, name: str, data: bytes, tmp_path: Path) -> str:
    """Send a PNG as each platform sends one (the terminal's /attach, a Slack file share, a
    Teams file card); what the person reads back."""
    if isinstance(driver, Terminal):
        path = tmp_path / name
        path.write_bytes(data)
        return await driver.say(user, f"/attach {path}")
    if isinstance(driver, Slack):
        from tests.fakes.slack_harness import blocks_text

        fake = driver.bot.fake
        fake.files[name] = (data, "image/png")
        before = len(fake.called("chat.postMessage", channel=f"D{user}"))
        info = {
            "id": name, "name": name, "mimetype": "image/png", "size": len(data),
            "url_private_download": fake.file_url(name),
        }  # fmt: skip
        await driver.bot.dm(user, "", files=[info])
        posted = await fake.wait_for("chat.postMessage", before + 1, channel=f"D{user}")
        return "\n".join(blocks_text(p) for p in posted[before:])
    assert isinstance(driver, Teams)
    from tests.fakes.teams_client import text_of

    fake = driver.teams.fake
    fake.downloads[name] = (data, "image/png")
    shared = {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "contentUrl": f"https://school.sharepoint.com/personal/{user}/{name}",
        "name": name,
        "content": {"downloadUrl": fake.download_url(name), "uniqueId": name},
    }
    before = len(driver.teams.dms(user))
    await driver.teams.say(user, "", attachments=[shared])
    return "\n".join(text_of(c) for c in driver.teams.dms(user)[before:])
