"""Messages about comments and reminders, in the neutral message model."""

from __future__ import annotations

from datetime import datetime

from bot.domain.comments import AUTHOR_LABELS, guidance_for
from bot.domain.messages import Button, Message
from bot.domain.policy import PolicyPack
from bot.services.cards import case_buttons, local
from bot.storage.tables import Case, CaseTask, Comment, OfficialAccount

REPLIED = "comment.replied"
ACKNOWLEDGED = "comment.acknowledged"
OFFENSIVE = "comment.offensive"
SNOOZE = "comment.snooze"
ACTIONS = (REPLIED, ACKNOWLEDGED, OFFENSIVE, SNOOZE)
QUOTE_CHARS = 300

STAGE_LEADS = {
    "new": "New comment on {account}. Please reply by {due}.",
    "nudge": "Reminder: a comment on {account} needs a reply by {due}.",
    "deadline": "The reply deadline for a comment on {account} is now ({due}).",
    "overdue": "A comment on {account} is overdue: the reply was due {due}.",
    "escalated": "A comment on {account} is overdue (due {due}), so SLT have been told.",
}


def _fields(pack: PolicyPack, comment: Comment, account: OfficialAccount) -> list[tuple[str, str]]:
    quoted = comment.text if len(comment.text) <= QUOTE_CHARS else comment.text[:QUOTE_CHARS] + "…"
    fields = [
        ("Account", f"{account.name} ({account.platform})" if account.platform else account.name),
        ("From", AUTHOR_LABELS.get(comment.author_type, comment.author_type)),
        ("Received", local(pack, comment.received_at)),
        ("Reply by", local(pack, comment.due_at)),
        ("Comment", quoted),
    ]
    if comment.link:
        fields.append(("Link", comment.link))
    flags = [
        f for f, on in (("offensive", comment.offensive), ("complaint", comment.complaint)) if on
    ]
    if flags:
        fields.append(("Flags", ", ".join(flags)))
    return fields


def _advice(pack: PolicyPack, comment: Comment) -> str:
    advice = guidance_for(pack, comment.author_type, comment.offensive, comment.complaint)
    return "\n".join(f"• {g.text}" for g in advice)


def moderator_nudge(
    pack: PolicyPack, comment: Comment, account: OfficialAccount, stage: str, now: datetime
) -> Message:
    """What a moderator gets: new comment, reminder, deadline, with the four buttons."""
    if stage in ("nudge", "deadline") and now > comment.due_at:
        stage = "overdue"
    lead = STAGE_LEADS[stage].format(account=account.name, due=local(pack, comment.due_at))
    value = comment.ref
    buttons = (
        Button(REPLIED, "Replied", value, "primary"),
        Button(ACKNOWLEDGED, "Acknowledged publicly", value),
        Button(OFFENSIVE, "Offensive: tell SLT", value, "danger"),
        Button(SNOOZE, "Snooze 1 hour", value),
    )
    return Message(
        text=f"{lead}\n{_advice(pack, comment)}",
        title=f"Comment {comment.ref} awaiting a reply",
        fields=tuple(_fields(pack, comment, account)),
        buttons=buttons if comment.status in ("awaiting", "escalated") else (),
    )


def slt_alert(pack: PolicyPack, comment: Comment, account: OfficialAccount, reason: str) -> Message:
    """To the SLT channel: at once for offensive/complaint/press, or after the deadline."""
    value = comment.ref
    return Message(
        text=f"{reason}\n{_advice(pack, comment)}",
        title=f"Comment {comment.ref} on {account.name}",
        fields=tuple(_fields(pack, comment, account)),
        buttons=(
            Button(REPLIED, "Replied", value, "primary"),
            Button(ACKNOWLEDGED, "Acknowledged publicly", value),
        )
        if comment.status in ("awaiting", "escalated")
        else (),
        urgent=comment.offensive,
    )


def closed_notice(comment: Comment, account: OfficialAccount, how: str, who: str) -> Message:
    return Message(f"Comment {comment.ref} on {account.name} is closed: {how} by {who}.")


def case_still_new(case: Case, minutes: int, to_deputy: bool) -> Message:
    whom = "You are the deputy, so it has come to you. " if to_deputy else ""
    urgency = "URGENT: " if case.urgent else ""
    return Message(
        text=(
            f"{urgency}{case.ref} has not been acknowledged for {minutes} minutes. {whom}"
            "Please acknowledge it, or open the case to see what's needed."
        ),
        title=f"Still waiting: {case.ref}",
        buttons=case_buttons(case),
        urgent=case.urgent,
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


def annual_reminder(pack: PolicyPack) -> Message:
    return Message(
        pack.cited(
            f"Yearly reminder from {pack.school.name}: please take ten minutes to re-read the "
            "social media policy. Message me any time if something has happened online.",
            "X-ANNUAL",
        )
    )
