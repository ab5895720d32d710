"""Official accounts and their comments: the register, logging a comment that needs a
reply, the moderators' nudges and buttons, and escalation to SLT (MO-* clauses)."""

import re

from bot.features.comments import buttons, conversation, reminders
from bot.features.comments.dialog import COMMENT
from bot.kernel.registry import Conversation, Registry

INTENT = re.compile(
    r"\b(log|record|add)\b.*\bcomment\b|\bcomment (on|under) (our|the|a) "
    r"(school|official|page|account|post)|\bneeds? a reply\b|\bawaiting (a )?reply\b"
)


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
            intent=INTENT,
            vocabulary=("comment", "reply", "record"),
            prepare=conversation.prepare,
        )
    )
    buttons.register(registry)
    reminders.register(registry)
