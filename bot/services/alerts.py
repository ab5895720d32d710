"""The team alert for a case in its current state: who to mention, and how it ended.

Opening a case and every change to it (acknowledge, assign, close, a decision) post this
same alert, so what the owning team sees is built in one place.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.domain.messages import Message
from bot.domain.policy import PolicyPack
from bot.services import cards
from bot.storage import repository as repo
from bot.storage.tables import Case


def alert_for(pack: PolicyPack, session: Session, case: Case, history: list[str]) -> Message:
    assert case.id is not None
    approval = repo.approval_for(session, case.id)
    if approval is not None:
        reason = None
        if approval.status == "rejected" and approval.id is not None:
            reason = repo.rejection_reason(session, approval.id)
        return cards.approval_alert(pack, case, approval, history, reason)
    # Urgent alerts mention the owning team's role holders on the platform they go to.
    holders = repo.holders(session, pack.roles_in_team(case.team), case.platform)
    return cards.case_alert(pack, case, history, cards.holder_mentions(pack, holders))
