"""Official accounts and their comments: the register, logging a comment that needs a
reply, the moderators' nudges and buttons, and escalation to SLT (MO-* clauses)."""

from bot.features.comments import buttons, conversation, reminders
from bot.features.comments.dialog import COMMENT
from bot.kernel.registry import Conversation, Registry


def register(registry: Registry) -> None:
    registry.add_conversation(
        Conversation(
            COMMENT,
            "A comment needing a reply",
            conversation.finish,
            about=(
                "A comment on an official account that needs a reply is logged with a working-day "
                "deadline; the moderators are reminded, and SLT is told if it is missed"
            ),
            prepare=conversation.prepare,
        )
    )
    buttons.register(registry)
    reminders.register(registry)
