"""Fake or impersonation accounts: an account pretending to be the school or a member of
staff, routed to SLT with guidance to report it to the platform (CB-BLOCK) and to warn
parents through the official accounts (MO-REGULAR); one contacting pupils goes to the DSL."""

from bot.features.cases import opening
from bot.features.impersonation.dialog import IMPERSONATION, KIND
from bot.kernel.registry import Conversation, Registry

# Before the abuse report's "fake account" and the account request's "set up ... account".


def register(registry: Registry) -> None:
    registry.add_case_kind(KIND)
    registry.add_conversation(
        Conversation(
            IMPERSONATION,
            "A fake or impersonation account",
            opening.finish,
            about=(
                "An account pretending to be the school or a member of staff goes to SLT, with "
                "what to do next (report it, block it, warn parents); one contacting pupils goes "
                "to the DSL as urgent"
            ),
            unfinished_to_dsl=True,
        )
    )
