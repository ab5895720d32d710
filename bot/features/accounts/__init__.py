"""New official accounts: the business case (AC-CASE), staged approval by SLT with
buttons (AC-APPROVE-*), and the register entry an approval creates (AC-REGISTER)."""

import re

from bot.features.accounts import approvals, cards
from bot.features.accounts.dialog import ACCOUNT_REQUEST, KIND
from bot.features.cases import opening
from bot.kernel.registry import Conversation, Registry

INTENT = re.compile(
    r"\b(set ?up|create|open|start|new|make)\b.*\b(account|page|channel|profile|group|"
    r"blog)\b|\bofficial account\b|\baccount (request|approval)\b"
)


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
            intent=INTENT,
            vocabulary=("account", "official", "create", "setup"),
        )
    )
    approvals.register(registry)
