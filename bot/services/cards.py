"""Alerts and notices in the neutral message model. Adapters only render these.

Alerts carry only what the pack's detail level allows (X-CONFIDENTIAL): never the
reporter's free text unless the pack says "full", and never evidence.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.cases import CaseKind, CaseStatus, alert_fields
from bot.domain.messages import Button, Message
from bot.domain.policy import PolicyPack
from bot.storage.tables import Approval, Case

CASE_ACK = "case.ack"
CASE_ASSIGN = "case.assign"
CASE_NOTE = "case.note"
CASE_CLOSE = "case.close"
APPROVE = "approval.approve"
REJECT = "approval.reject"
OPEN_WEB = "web.open"  # a one-time link to the case in the web workspace
ACTIONS = (CASE_ACK, CASE_ASSIGN, CASE_NOTE, CASE_CLOSE, APPROVE, REJECT, OPEN_WEB)

STATUS_LABELS = {
    CaseStatus.NEW: "New",
    CaseStatus.ACKNOWLEDGED: "Acknowledged",
    CaseStatus.IN_PROGRESS: "In progress",
    CaseStatus.CLOSED: "Closed",
}


def local(pack: PolicyPack, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(pack.calendar.timezone)).strftime("%-d %b %H:%M")


def _who(name: str | None) -> str:
    return name or "someone"


def case_alert(pack: PolicyPack, case: Case, history: list[str]) -> Message:
    kind = CaseKind(case.kind)
    urgent = case.urgent and case.status != CaseStatus.CLOSED
    team = "DSL" if case.team == "dsl" else "SLT"
    title = f"{'URGENT: ' if urgent else ''}{kind.title} {case.ref}"
    fields = alert_fields(pack, kind, case.summary)
    fields.append(("Status", STATUS_LABELS[CaseStatus(case.status)]))
    if case.flags:
        readable = [f.replace("_", " ") for f in case.flags if f != "urgent"]
        if readable:
            fields.append(("Flags", ", ".join(readable)))
    lines = [f"A new {kind.title.lower()} case for the {team} team."]
    if pack.alerts.detail == "minimal":
        lines.append("Details are in the case record, visible to the team only.")
    lines.extend(history)
    return Message(
        text="\n".join(lines),
        title=title,
        fields=tuple(fields),
        buttons=case_buttons(case),
        urgent=urgent,
    )


def case_buttons(case: Case) -> tuple[Button, ...]:
    """What the owning team can still do with a case; shown on alerts and reminders."""
    if case.status == CaseStatus.CLOSED:
        return ()
    buttons: list[Button] = []
    if case.status == CaseStatus.NEW:
        buttons.append(Button(CASE_ACK, "Acknowledge", case.ref, "primary"))
    if not case.assignee_id:
        buttons.append(Button(CASE_ASSIGN, "Assign to me", case.ref))
    buttons.append(Button(CASE_NOTE, "Add note", case.ref, asks_for="Your note"))
    buttons.append(
        Button(
            CASE_CLOSE, "Close with outcome", case.ref, "danger", asks_for="What was the outcome?"
        )
    )
    return tuple(buttons)


def approval_alert(pack: PolicyPack, case: Case, approval: Approval, history: list[str]) -> Message:
    fields = alert_fields(pack, CaseKind.ACCOUNT_REQUEST, case.summary)
    if case.flags:
        fields.append(("Flags", ", ".join(f.replace("_", " ") for f in case.flags)))
    lines = list(history)
    buttons: tuple[Button, ...] = ()
    if approval.status == "pending":
        role = approval.stages[approval.current]
        total = len(approval.stages)
        step = f" (stage {approval.current + 1} of {total})" if total > 1 else ""
        lines.append(f"Waiting for: {pack.role_label(role)}{step}.")
        value = f"{case.ref}:{approval.current}"
        buttons = (
            Button(APPROVE, "Approve", value, "primary"),
            Button(REJECT, "Reject", value, "danger", asks_for="Why are you rejecting it?"),
        )
    elif approval.status == "approved":
        lines.append("Approved. The account has been added to the register.")
    else:
        lines.append("Rejected.")
    return Message(
        text="\n".join(lines) or "A request for a new official account.",
        title=f"New official account request {case.ref}",
        fields=tuple(fields),
        buttons=buttons,
    )


def reporter_notice(case: Case, event: str, who: str | None, detail: str | None = None) -> Message:
    kind = CaseKind(case.kind).title.lower()
    if event == "acknowledged":
        text = f"Your {kind} report {case.ref} has been picked up by {_who(who)}. Thank you for reporting it."
    elif event == "closed":
        text = f"Your case {case.ref} is now closed. Outcome: {detail}"
    elif event == "approved":
        text = (
            f'Good news: your request {case.ref} for "{case.summary.get("name", "")}" has been '
            "approved and added to the register of official accounts. You can set it up now."
        )
    elif event == "rejected":
        text = (
            f"Your request {case.ref} was not approved. Reason: {detail}\n"
            "You can start a new request when you're ready."
        )
    else:
        text = f"Update on {case.ref}: {detail}"
    return Message(text=text)
