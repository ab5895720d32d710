"""The team alert for a case in its current state, and posting it again after a change.

Opening a case and every change to it (acknowledge, assign, close, a decision) post this
same alert, so what the owning team sees is built in one place. A case kind may register
an alert of its own (an account request shows its approval); others get the standard one.
"""

from __future__ import annotations

from bot.domain.messages import Message
from bot.features.cases import cards, history
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case


def alert_for(kernel: Kernel, session: SchoolSession, case: Case, lines: list[str]) -> Message:
    own = kernel.registry.alerts.get(case.kind)
    if own is not None:
        return own(kernel, session, case, lines)
    pack = kernel.pack
    # Urgent alerts mention the owning team's role holders on the platform they go to.
    holders = repo.holders(session, pack.roles_in_team(case.team), case.platform)
    kind = kernel.registry.case_kind(case.kind)
    return cards.case_alert(pack, kind, case, lines, cards.holder_mentions(pack, holders))


def refresh(kernel: Kernel, session: SchoolSession, case: Case) -> None:
    """Post the alert again in its new state; adapters update the original message."""
    session.flush()
    session.refresh(case)
    assert case.id is not None
    message = alert_for(kernel, session, case, history.lines(kernel.pack, session, case.ref))
    kernel.outbox.announce(session, case.id, case.platform, case.team, message, replaces_first=True)


def notify_reporter(
    kernel: Kernel,
    session: SchoolSession,
    case: Case,
    event: str,
    who: str | None,
    *,
    detail: str | None = None,
) -> None:
    kind = kernel.registry.case_kind(case.kind)
    notice = cards.reporter_notice(kind, case, event, who, detail)
    kernel.outbox.tell_user(session, case.platform, case.reporter_id, notice, case.id)
