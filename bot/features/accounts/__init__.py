"""New official accounts: the business case (AC-CASE), staged approval by SLT with
buttons (AC-APPROVE-*), and the register entry an approval creates (AC-REGISTER)."""

from bot.features.accounts import approvals, cards
from bot.features.accounts.dialog import ACCOUNT_REQUEST, KIND
from bot.features.cases import opening
from bot.kernel.registry import Conversation, Registry


def register(registry: Registry) -> None:
    registry.add_case_kind(KIND)
    registry.alerts[KIND.code] = cards.alert
    registry.add_conversation(
        Conversation(
            ACCOUNT_REQUEST,
            "A new official account",
            opening.finish,
            about=(
                "A request for a school account goes to the approvers your policy names; approved "
                "accounts go on the register"
            ),
        )
    )
    approvals.register(registry)
