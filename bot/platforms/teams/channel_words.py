"""What a channel's members type to schoolbot (an @mention): choosing the channel for a
team's alerts ("use this channel for dsl"); anything else gets a line saying what the bot
does in channels."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from botbuilder.core import TurnContext
from botbuilder.core.teams import teams_get_channel_id

from bot.domain.messages import Message
from bot.platforms.teams import store
from bot.platforms.teams.installs import user_id

if TYPE_CHECKING:
    from bot.platforms.teams.adapter import TeamsAdapter

CHOOSE = re.compile(r"^use (?:this|the) channel for (?:the )?(dsl|slt)\b", re.I)
CHANNEL_HELP = (
    "I post the safeguarding (DSL) and senior leadership (SLT) alerts in team channels. "
    "To report something, message me in a personal chat. A DSL or SLT member can type "
    "'@schoolbot use this channel for dsl' (or slt) to have their team's alerts posted here."
)


async def answer(adapter: TeamsAdapter, turn_context: TurnContext) -> None:
    service = adapter.service
    activity = turn_context.activity
    text = " ".join((TurnContext.remove_recipient_mention(activity) or "").split())
    match = CHOOSE.match(text)
    if not match:
        await adapter.send(turn_context, [Message(CHANNEL_HELP)])
        return
    channel = teams_get_channel_id(activity) or activity.conversation.id.split(";")[0]
    ref = TurnContext.get_conversation_reference(activity)
    ref.conversation.id = channel
    ref.activity_id = None
    reply = await service.work.run(
        store.choose_channel,
        service.kernel,
        user_id(activity.from_property),
        activity.from_property.name,
        match.group(1).lower(),
        ref.serialize(),
    )
    await adapter.send(turn_context, [Message(reply)])
