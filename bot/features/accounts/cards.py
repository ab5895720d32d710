"""The account request's alert: the business case, where the approval stands, and the
Approve / Reject buttons for whoever decides the current stage."""

from __future__ import annotations

from bot.domain.cases import alert_fields, flag_label
from bot.domain.messages import Button, Message, mention
from bot.domain.policy import PolicyPack
from bot.features.accounts import queries as accounts_queries
from bot.features.accounts.approvals import APPROVE, REJECT, REJECT_PROMPT
from bot.features.accounts.dialog import KIND
from bot.features.cases.cards import reporter
from bot.kernel.buttons import ButtonTarget
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Approval, Case


def alert(kernel: Kernel, session: SchoolSession, case: Case, history: list[str]) -> Message:
    assert case.id is not None
    approval = repo.approval_for(session, case.id)
    if approval is None:  # cannot happen for a request opened by the dialog
        return Message(f"Account request {case.ref}", title=f"Account request {case.ref}")
    reason = None
    if approval.status == "rejected" and approval.id is not None:
        reason = accounts_queries.rejection_reason(session, approval.id)
    return approval_alert(kernel.pack, case, approval, history, reason)


def approval_alert(
    pack: PolicyPack,
    case: Case,
    approval: Approval,
    history: list[str],
    reason: str | None = None,
) -> Message:
    """`reason` is the rejecting approver's reason, shown once the request is rejected."""
    fields = alert_fields(pack, KIND, case.summary)
    if case.flags:
        fields.append(("Flags", ", ".join(flag_label(f) for f in case.flags)))
    lines = [f"Requested by {mention(case.reporter_id)}.", *history]
    buttons: tuple[Button, ...] = ()
    if approval.status == "pending":
        role = approval.stages[approval.current]
        total = len(approval.stages)
        step = f" (stage {approval.current + 1} of {total})" if total > 1 else ""
        lines.append(f"Waiting for: {pack.role_label(role)}{step}.")
        value = ButtonTarget(case.ref, approval.current).encode()
        buttons = (
            Button(APPROVE, "Approve", value, "primary"),
            Button(REJECT, "Reject", value, "danger", asks_for=REJECT_PROMPT),
        )
    elif approval.status == "approved":
        said = any(line.startswith("Approved by") for line in history)
        lines.append(f"{'' if said else 'Approved. '}The account has been added to the register.")
    elif any(line.startswith("Rejected by") for line in history):  # said once, not twice
        lines.append(f"Reason: {reason}" if reason else "")
    else:
        lines.append(f"Rejected. Reason: {reason}" if reason else "Rejected.")
    title = "New official account request" if approval.status == "pending" else "Account request"
    return Message(
        text="\n".join(line for line in lines if line),
        title=f"{title} {case.ref}",
        fields=tuple(fields),
        buttons=buttons,
        mentions=(reporter(case),),
    )
