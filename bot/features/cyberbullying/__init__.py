"""Cyberbullying and online abuse, with evidence (CB-* clauses). Files sent with no
conversation in progress start this report."""

from bot.features.cases import opening
from bot.features.cyberbullying.dialog import CYBERBULLYING, KIND
from bot.kernel.registry import Conversation, Registry


def register(registry: Registry) -> None:
    registry.add_case_kind(KIND)
    registry.add_conversation(
        Conversation(
            CYBERBULLYING,
            "Online abuse or cyberbullying",
            opening.finish,
            about=(
                "Staff report abuse aimed at a pupil, a colleague or themselves, with screenshots "
                "as evidence; abuse of a pupil always goes to the DSL as urgent"
            ),
            takes_files=True,
            triage=True,
            alarm=opening.raise_alarm,
            unfinished_to_dsl=True,
        )
    )
