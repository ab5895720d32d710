"""Messages about comments and reminders, in the neutral message model."""

from __future__ import annotations

from datetime import datetime

from bot.domain.messages import Button, Message
from bot.domain.policy import PolicyPack
from bot.features.cases.cards import local
from bot.features.comments.rules import AUTHOR_LABELS, guidance_for
from bot.kernel.buttons import ButtonTarget
from bot.storage.tables import Comment, OfficialAccount

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
    ]
    if pack.alerts.detail == "full":  # the comment is free text (X-CONFIDENTIAL)
        fields.append(("Comment", quoted))
    if comment.link:
        fields.append(("Link", comment.link))
    flags = [
        f for f, on in (("offensive", comment.offensive), ("complaint", comment.complaint)) if on
    ]
    if flags:
        fields.append(("Flags", ", ".join(flags)))
    return fields


def advice_text(pack: PolicyPack, comment: Comment, *, to_slt: bool = False) -> str:
    """The moderators' advice for this comment, one cited line each."""
    advice = guidance_for(
        pack, comment.author_type, offensive=comment.offensive, complaint=comment.complaint
    )
    if comment.author_type == "press" and not to_slt:
        # SLT answer journalists (MO-JOURNALIST): moderators are not asked to reply.
        advice = [g for g in advice if g.clause != "MO-24H"]
    return "\n".join(f"• {g.text}" for g in advice)


PRESS_LEADS = {
    "new": "A journalist commented on {account}. Please don't reply: SLT will answer by {due}.",
    "escalated": "The press enquiry on {account} is past its reply time ({due}); SLT have it.",
}


def moderator_nudge(
    pack: PolicyPack, comment: Comment, account: OfficialAccount, stage: str, now: datetime
) -> Message:
    """What a moderator gets: new comment, reminder, deadline, with the four buttons."""
    if stage in ("nudge", "deadline") and now > comment.due_at:
        stage = "overdue"
    press = comment.author_type == "press"
    leads = PRESS_LEADS if press and stage in PRESS_LEADS else STAGE_LEADS
    lead = leads[stage].format(account=account.name, due=local(pack, comment.due_at))
    value = ButtonTarget(comment.ref).encode()
    buttons = (
        Button(REPLIED, "Replied", value, "primary"),
        Button(ACKNOWLEDGED, "Acknowledged publicly", value),
        Button(OFFENSIVE, "Offensive: tell SLT", value, "danger"),
        Button(SNOOZE, "Snooze 1 hour", value),
    )
    return Message(
        text=f"{lead}\n{advice_text(pack, comment)}",
        title=f"Comment {comment.ref} awaiting a reply",
        fields=tuple(_fields(pack, comment, account)),
        # A press enquiry is SLT's to answer: the moderators have nothing to press.
        buttons=buttons if comment.status in ("awaiting", "escalated") and not press else (),
    )


def press_reminder(
    pack: PolicyPack, comment: Comment, account: OfficialAccount, now: datetime
) -> Message:
    """To SLT, in place of the moderators' nudge: the press enquiry still needs their reply."""
    due = local(pack, comment.due_at)
    when = f"was due {due}" if now > comment.due_at else f"is due by {due}"
    return slt_alert(
        pack, comment, account, f"Reminder: the reply to this press enquiry {when} (MO-24H)."
    )


def slt_alert(pack: PolicyPack, comment: Comment, account: OfficialAccount, reason: str) -> Message:
    """To the SLT channel: at once for offensive/complaint/press, or after the deadline."""
    value = ButtonTarget(comment.ref).encode()
    return Message(
        text=f"{reason}\n{advice_text(pack, comment, to_slt=True)}",
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
