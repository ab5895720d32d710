"""Alerts and notices in the neutral message model. Adapters only render these.

Alerts carry only what the pack's detail level allows (X-CONFIDENTIAL): never the
reporter's free text unless the pack says "full", and never evidence.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.cases import CaseKind, CaseStatus, alert_fields, flag_label, role_of_team
from bot.domain.messages import Button, Mention, Message, mention
from bot.domain.policy import PolicyPack
from bot.kernel.buttons import ButtonTarget
from bot.storage.tables import Case, CaseTask, RoleAssignment

CASE_ACK = "case.ack"
CASE_ASSIGN = "case.assign"
CASE_NOTE = "case.note"
CASE_CLOSE = "case.close"
# On a report its reporter never finished (SG-UNFINISHED): ask them to finish it.
CASE_ASK_REPORTER = "case.ask_reporter"
# A closed case its owning team opens again, saying why (kept in the chronology).
CASE_REOPEN = "case.reopen"
NOTE_PROMPT = "Your note"
REOPEN_REASON = "Reason for reopening"
REOPEN_HINT = (
    "Only the team that owns the case sees the reason, in its record. The reporter isn't told."
)

STATUS_LABELS = {
    CaseStatus.NEW: "New",
    CaseStatus.ACKNOWLEDGED: "Acknowledged",
    CaseStatus.IN_PROGRESS: "In progress",
    CaseStatus.CLOSED: "Closed",
}


# The close form: what the DSL writes stays in the record; the reporter reads only the message.
CLOSE_OUTCOME = "Outcome, for the case record"
CLOSE_MESSAGE = "Message to the reporter (optional)"
CLOSE_HINT = (
    "Only the team that owns the case sees the outcome. The reporter is told the case is "
    "closed, with your message to them if you write one."
)

# How an alert opens, by the case's status, so an updated alert never says "new" when it isn't.
STATUS_LEADS = {
    CaseStatus.NEW: "A new {kind} case for {team}.",
    CaseStatus.ACKNOWLEDGED: "A {kind} case for {team}, acknowledged.",
    CaseStatus.IN_PROGRESS: "A {kind} case for {team}, being handled.",
    CaseStatus.CLOSED: "A {kind} case for {team}, now closed.",
}


WHEN_FORMAT = "%a %-d %b %Y, %H:%M"


def local(pack: PolicyPack, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(pack.calendar.timezone)).strftime("%-d %b %H:%M")


def when(pack: PolicyPack, moment: datetime) -> str:
    """Like "Tue 1 Dec 2026, 20:00", in the school's timezone: for records, where the day matters."""
    return moment.astimezone(ZoneInfo(pack.calendar.timezone)).strftime(WHEN_FORMAT)


def _who(name: str | None) -> str:
    return name or "someone"


def reporter(case: Case) -> Mention:
    """The person who reported a case, to name them as a mention where the platform has one."""
    return Mention(case.reporter_id, case.reporter_name or case.reporter_id)


def holder_mentions(pack: PolicyPack, rows: list[RoleAssignment]) -> tuple[Mention, ...]:
    """Role holders as mentions, each shown by their role where the platform needs a name."""
    seen: dict[str, Mention] = {}
    for row in rows:
        seen.setdefault(row.user_id, Mention(row.user_id, pack.role_label(row.role)))
    return tuple(seen.values())


def status_label(case: Case, approval_status: str | None = None) -> str:
    """A closed account request says how it ended: Approved or Rejected, not just Closed."""
    if case.status == CaseStatus.CLOSED and approval_status in ("approved", "rejected"):
        return approval_status.capitalize()
    return STATUS_LABELS[CaseStatus(case.status)]


def in_words(names: list[str]) -> str:
    """["Ms Brown", "Mr Jones", "Mx Lee"] -> "Ms Brown, Mr Jones and Mx Lee"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _attention(notify: tuple[Mention, ...]) -> str:
    return f"For your attention: {in_words([mention(m.user_id) for m in notify])}."


def case_alert(
    pack: PolicyPack,
    kind: CaseKind,
    case: Case,
    history: list[str],
    notify: tuple[Mention, ...] = (),
) -> Message:
    """`notify` are the owning role's holders: an urgent new case mentions them, so their
    phone buzzes even when they are not watching the channel. A routine one never does."""
    status = CaseStatus(case.status)
    urgent = case.urgent and status != CaseStatus.CLOSED
    notify = notify if urgent and status == CaseStatus.NEW else ()
    role = role_of_team(case.team)
    if role is not None:  # one person's, by direct message: say it is private
        team = f"the {pack.role_label(role)} only (private)"
    else:
        team = "the DSL team" if case.team == "dsl" else "the SLT team"
    title = f"{'URGENT: ' if urgent else ''}{kind.title} {case.ref}"
    fields = alert_fields(pack, kind, case.summary)
    fields.append(("Status", STATUS_LABELS[status]))
    if case.flags:
        readable = [flag_label(f) for f in case.flags if f != "urgent"]
        if readable:
            fields.append(("Flags", ", ".join(readable)))
    lines = [_attention(notify)] if notify else []
    lines.append(STATUS_LEADS[status].format(kind=kind.title.lower(), team=team))
    lines.append(f"Reported by {mention(case.reporter_id)}.")
    if pack.alerts.detail == "minimal":
        lines.append("Details are in the case record, visible to the team only.")
    lines.extend(history)
    return Message(
        text="\n".join(lines),
        title=title,
        fields=tuple(fields),
        buttons=case_buttons(case),
        urgent=urgent,
        mentions=(reporter(case), *notify),
    )


def case_buttons(case: Case) -> tuple[Button, ...]:
    """What the owning team can still do with a case; shown on alerts and reminders."""
    if case.status == CaseStatus.CLOSED:
        return ()
    buttons: list[Button] = []
    target = ButtonTarget(case.ref).encode()
    if case.status == CaseStatus.NEW:
        buttons.append(Button(CASE_ACK, "Acknowledge", target, "primary"))
    if not case.assignee_id:
        buttons.append(Button(CASE_ASSIGN, "Assign to me", target))
    if "unfinished" in case.flags:
        buttons.append(Button(CASE_ASK_REPORTER, "Ask the reporter", target))
    buttons.append(Button(CASE_NOTE, "Add note", target, asks_for=NOTE_PROMPT))
    buttons.append(
        Button(
            CASE_CLOSE,
            "Close with outcome",
            target,
            "danger",
            asks_for=CLOSE_OUTCOME,
            also_asks=CLOSE_MESSAGE,
            form_hint=CLOSE_HINT,
        )
    )
    return tuple(buttons)


def reopen_button(case: Case) -> Button:
    """Offered to the owning team on a closed case (its view, `reopen REF`), never on the
    channel's alert: reopening is a considered step, with a reason."""
    return Button(
        CASE_REOPEN,
        "Reopen",
        ButtonTarget(case.ref).encode(),
        asks_for=REOPEN_REASON,
        form_hint=REOPEN_HINT,
    )


def reporter_notice(
    kind_of: CaseKind, case: Case, event: str, who: str | None, detail: str | None = None
) -> Message:
    """What the reporter is told. For "closed", `detail` is the optional message to them."""
    kind = kind_of.title.lower()
    if event == "acknowledged":
        text = f"Your {kind} report {case.ref} has been picked up by {_who(who)}. Thank you for reporting it."
    elif event == "closed":
        # The outcome stays in the record: the reporter hears only what was written for them.
        text = f"Your {kind} report {case.ref} is now closed. Thank you for reporting it."
        if detail:
            text += f"\nA message from {_who(who)}: {detail}"
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


def waited_words(minutes: int) -> str:
    """How long an alert has waited: minutes, or hours once it is two hours or more."""
    if minutes < 120:
        return f"{minutes} minutes"
    hours, left = divmod(minutes, 60)
    return f"{hours} hours" + (f" {left} minutes" if left else "")


def case_still_new(
    case: Case, minutes: int, note: str = "", notify: tuple[Mention, ...] = ()
) -> Message:
    """An urgent case nobody has acknowledged. `note` says who else has been told;
    `notify` are the people to mention so their phones buzz."""
    urgency = "URGENT: " if case.urgent else ""
    lines = (
        [f"For your attention: {in_words([mention(m.user_id) for m in notify])}."] if notify else []
    )
    lines.append(
        f"{urgency}{case.ref} has not been acknowledged for {waited_words(minutes)}. "
        f"{note + ' ' if note else ''}"
        "Please acknowledge it, or type case " + case.ref + " to see what's needed."
    )
    return Message(
        text="\n".join(lines),
        title=f"Still waiting: {case.ref}",
        buttons=case_buttons(case),
        urgent=case.urgent,
        mentions=notify,
    )


def task_due(pack: PolicyPack, case: Case, task: CaseTask) -> Message:
    return Message(
        text=(
            f"Follow-up due for {case.ref}: {pack.cited(task.title, task.clause)}\n"
            "Add a note when it's done, or close the case with the outcome."
        ),
        title=f"Follow-up due: {case.ref}",
        buttons=case_buttons(case),
    )
