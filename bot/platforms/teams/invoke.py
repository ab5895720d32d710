"""`adaptiveCard/action` invokes (Universal Actions), answered as Teams expects.

Teams sends one when an Action.Execute is pressed (or a card asks to refresh). Our cards use
Action.Submit, but a client may still send the invoke, and botbuilder's default answers 501
with no body, or fails on anything that isn't Action.Execute. Here the action's data goes
down the same path as a submitted card, and the answer is an invoke response of 200 whose
body is a message response: {"statusCode": 200, "type": "application/vnd.microsoft.
activity.message", "value": "<text>"}, which Teams shows by the card.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from botbuilder.core import TurnContext
from botbuilder.schema import InvokeResponse

from bot.platforms.teams.cards import ACTION, CHOICE

if TYPE_CHECKING:
    from bot.platforms.teams.adapter import SchoolBot

CARD_ACTION = "adaptiveCard/action"
MESSAGE = "application/vnd.microsoft.activity.message"
DONE = {
    "personal": "Thanks, got it. My reply is in this chat.",
    "other": "Thanks, got it. I'll reply in your personal chat with schoolbot.",
}
NOT_OURS = "Sorry, that button isn't one I can act on any more. Type help to see what I can do."
REPEAT = "Thanks, I already have that."


def message_response(text: str) -> InvokeResponse:
    body = {"statusCode": int(HTTPStatus.OK), "type": MESSAGE, "value": text}
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def action_data(value: Any) -> dict[str, Any] | None:
    """The pressed action's data (Action.Execute or any other type), if it has any."""
    action = value.get("action") if isinstance(value, dict) else None
    data = action.get("data") if isinstance(action, dict) else None
    return data if isinstance(data, dict) else None


async def card_action(bot: SchoolBot, turn_context: TurnContext) -> InvokeResponse:
    activity = turn_context.activity
    if not await bot.first_time(turn_context):
        return message_response(REPEAT)
    data = action_data(activity.value)
    if data is None or data.get("schoolbot") not in (CHOICE, ACTION):
        return message_response(NOT_OURS)
    note = await bot.submit(turn_context, data)  # a stale answer button's note, shown here
    if note:
        return message_response(note)
    personal = activity.conversation.conversation_type == "personal"
    return message_response(DONE["personal" if personal else "other"])
