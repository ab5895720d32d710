"""Friend and follow requests from pupils, former pupils and parents (FR-* clauses)."""

from bot.features.cases import opening
from bot.features.friend_requests.dialog import FRIEND_REQUEST, KIND
from bot.kernel.registry import Conversation, Registry


def register(registry: Registry) -> None:
    registry.add_case_kind(KIND)
    registry.add_conversation(
        Conversation(
            FRIEND_REQUEST,
            "A friend or follow request",
            opening.finish,
            about=(
                "A pupil, former pupil, parent or another young person wants to connect: the bot "
                "says what your policy allows, and tells the DSL when the policy says it should "
                "know; if their messages worry you, your words and screenshots go to the DSL as "
                "urgent"
            ),
            unfinished_to_dsl=True,
        )
    )
