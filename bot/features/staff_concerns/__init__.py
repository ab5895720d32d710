"""Concerns about a colleague's online conduct, and staff reporting their own post
(SG-ALLEGATION, SG-LOW-LEVEL, SG-SELF-REPORT). Each goes privately to one role's holders,
never to a team channel and never to a role the person concerned holds."""

import re

from bot.features.cases import opening
from bot.features.staff_concerns.dialog import KIND, STAFF_CONCERN
from bot.kernel.registry import Conversation, Registry

_STAFF = (
    r"(colleague|member of staff|staff member|teacher|teaching assistant|\bta\b|coworker|co-worker)"
)
INTENT = re.compile(
    rf"\b(concern|concerned|worried|worry|worries|allegation|complaint) (about|regarding) (a |my |another |one of my )?{_STAFF}"
    rf"|\b{_STAFF}s? (has |is |was |keeps )?(posted|posting|messag\w*|follow\w*|add\w*|friended|dm\w*|texting|snapchatting) (a |with |to )?(pupil|student|child|kid)"
    r"|\bi (posted|shared|put) something\b|\bregret (posting|a post|what i posted)\b|\blow[- ]level concern\b"
    r"|\ballegation against\b|\breport (myself|my own)\b|\bself[- ]report\b"
)
VOCABULARY = ("colleague", "allegation", "regret", "posted", "concern")


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
            intent=INTENT,
            vocabulary=VOCABULARY,
            alarm=opening.raise_alarm,
        )
    )
