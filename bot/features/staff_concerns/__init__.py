"""Concerns about a colleague's online conduct, and staff reporting their own post
(SG-ALLEGATION, SG-LOW-LEVEL, SG-SELF-REPORT). Each goes privately to one role's holders,
never to a team channel and never to a role the person concerned holds."""

from bot.features.cases import opening
from bot.features.staff_concerns.dialog import KIND, STAFF_CONCERN
from bot.kernel.registry import Conversation, Registry


def register(registry: Registry) -> None:
    registry.add_case_kind(KIND)
    registry.add_conversation(
        Conversation(
            STAFF_CONCERN,
            "A concern about a member of staff",
            opening.finish,
            about=(
                "Staff raise a concern about a colleague's online conduct (or report their own "
                "post); it goes privately to the Headteacher, or the chair of governors when "
                "it is about the Headteacher, never to a channel or to the person concerned"
            ),
            alarm=opening.raise_alarm,
            private=True,
        )
    )
