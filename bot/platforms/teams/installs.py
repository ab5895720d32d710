"""Installs: remember where people and channels can be reached, and say hello in a team.

Used by SchoolBot (adapter.py), which hands it install events. Teams tells of an install twice (a conversationUpdate
with the bot among membersAdded, and an installationUpdate "add"); both are handled, and
the introduction in the team's General channel is posted once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from botbuilder.core import TurnContext
from botbuilder.core.teams import teams_get_channel_id
from botbuilder.schema import ChannelAccount
from botbuilder.schema.teams import TeamInfo

from bot.domain.messages import Message
from bot.platforms.teams import store
from bot.platforms.teams.wire import to_wire

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bot.dispatch import BotService

# Posts messages into the conversation of a turn (the adapter's send).
Send = Callable[[TurnContext, list[Message]], Awaitable[list[Message]]]

PLATFORM = "teams"
INTRO = (
    "Hello, I'm schoolbot. I help staff follow the school's social media policy: anyone can "
    "message me in a personal chat to report a friend request or online abuse, or to ask "
    "for an official account. I post the alerts for the safeguarding (DSL) and senior "
    "leadership (SLT) teams in channels they choose. To choose one, a DSL member types "
    "'@schoolbot use this channel for dsl' in their channel, and an SLT member types "
    "'@schoolbot use this channel for slt' in theirs."
)
SAVED_REFS = 10_000  # chat references remembered as saved, per process
INTRO_UNTIL = " Until then, their alerts are kept and posted as soon as a channel is chosen."


def user_id(account: ChannelAccount | None) -> str:
    """Entra object id when Teams gives it (stable across bots), else the Teams user id."""
    if account is None:
        return ""
    return account.aad_object_id or account.id or ""


class Installs:
    """Install events, and the chat and channel references kept for later sends.

    `channels` are the configured team channels (to say whether one is still to choose);
    the chat references this process saved are remembered here, so an unchanged one is
    not written again on every turn."""

    def __init__(
        self, service: Callable[[], BotService], send: Send, channels: Mapping[str, str | None]
    ):
        self._service = service  # the turn's school's
        self.send = send
        self.channels = channels
        self.saved_refs: dict[str, dict[str, Any]] = {}

    @property
    def service(self) -> BotService:
        return self._service()

    async def members_added(
        self,
        teams_members_added: list[Any],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        activity = turn_context.activity
        bot_added = any(m.id == activity.recipient.id for m in teams_members_added)
        if not bot_added:
            return
        if team_info and team_info.id:
            await self.remember_channel(turn_context, team_info.id)
            await self._introduce(turn_context, team_info.id)
        elif activity.conversation.conversation_type == "personal":
            await self.remember_user(turn_context)
            uid = user_id(activity.from_property)
            await self.send(
                turn_context, await self.service.work.run(self.service.greet, PLATFORM, uid)
            )

    async def installed(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        team = (
            (activity.channel_data or {}).get("team")
            if isinstance(activity.channel_data, dict)
            else None
        )
        if team and team.get("id"):
            await self.remember_channel(turn_context, team["id"])
            await self._introduce(turn_context, team["id"])
        elif activity.conversation.conversation_type == "personal":
            await self.remember_user(turn_context)

    async def _introduce(self, turn_context: TurnContext, team: str) -> None:
        """Say hello once per install; Teams tells of it twice (conversationUpdate and
        installationUpdate), so the second is skipped."""
        digest = hashlib.sha256(team.encode()).hexdigest()[:32]
        if await self.service.work.run(self.service.intake.first_request, f"teams:intro:{digest}"):
            unset = not all(self.channels.values())
            await self.send(turn_context, [Message(INTRO + (INTRO_UNTIL if unset else ""))])

    async def remember_user(self, turn_context: TurnContext) -> None:
        await self.service.work.run(self.remember_user_now, turn_context.activity)

    def remember_user_now(self, activity: Any) -> None:
        """Keep the person's chat reference (on a worker thread). A reference this process
        saved last time and that has not changed is not read or written again."""
        ref = TurnContext.get_conversation_reference(activity)
        ref.activity_id = None
        # to_wire gives what ref.serialize() does at a fraction of the cost (tested).
        key, data = f"user:{user_id(activity.from_property)}", to_wire(ref)
        if self.saved_refs.get(key) == data:
            return
        try:
            store.save(self.service.kernel, key, data)
        except sa.exc.SQLAlchemyError as exc:  # the turn goes on and says the records are down
            log.error("Teams: chat not remembered, database problem: %s", type(exc).__name__)
            return
        if len(self.saved_refs) >= SAVED_REFS:
            self.saved_refs.pop(next(iter(self.saved_refs)))
        self.saved_refs[key] = data

    async def remember_channel(self, turn_context: TurnContext, channel: str | None = None) -> None:
        activity = turn_context.activity
        channel = channel or teams_get_channel_id(activity)
        if not channel:
            return
        ref = TurnContext.get_conversation_reference(activity)
        ref.conversation.id, ref.activity_id, ref.user = channel, None, None
        await self.service.work.run(
            store.save, self.service.kernel, f"channel:{channel}", ref.serialize()
        )
