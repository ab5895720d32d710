"""A logged comment's reminders (MO-24H): nudge the moderators, tell them at the deadline,
then escalate to SLT. A press enquiry reminds SLT instead (MO-JOURNALIST)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.domain.messages import Priority
from bot.features.comments import cards as cc
from bot.features.comments.moderation import Moderation
from bot.kernel.core import Kernel
from bot.kernel.registry import Registry, ReminderKind
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Comment, OfficialAccount, Reminder

STAGES = ("comment.nudge", "comment.deadline", "comment.escalate")


def register(registry: Registry) -> None:
    for stage, kind in enumerate(STAGES):
        registry.add_reminder(ReminderKind(kind, _remind, _by_comment, stage, _preload))


def _by_comment(reminder: Reminder) -> str:
    return f"comment:{reminder.comment_id}"


def _remind(kernel: Kernel, session: SchoolSession, reminder: Reminder) -> str:
    pack, now = kernel.pack, kernel.now()
    comment = session.get(Comment, reminder.comment_id)
    account = session.get(OfficialAccount, comment.account_id) if comment else None
    if comment is None or account is None:
        return "comment gone"
    if comment.status not in ("awaiting", "escalated"):
        return f"already {comment.status}"
    moderation = Moderation(kernel)
    if reminder.kind == "comment.escalate":
        moderation.escalate(
            session,
            comment,
            account,
            "Nobody has marked this comment as replied and the deadline has passed (MO-24H).",
        )
        # The moderators hear it too, so they know SLT are now involved.
        overdue = cc.moderator_nudge(pack, comment, account, "escalated", now)
        if comment.author_type != "press":  # SLT had a press enquiry from the start
            moderation.tell_contacts(session, comment, account, overdue)
        return "escalated to SLT"
    if comment.author_type == "press":
        # Journalists are answered by SLT (MO-JOURNALIST): remind them, not the moderators.
        reminder_for_slt = cc.press_reminder(pack, comment, account, now)
        for platform in moderation.platforms_for(comment):
            kernel.outbox.announce_team(session, platform, "slt", reminder_for_slt)
        return "press enquiry: reminded SLT"
    stage = "nudge" if reminder.kind == "comment.nudge" else "deadline"
    message = cc.moderator_nudge(pack, comment, account, stage, now)
    told = moderation.tell_contacts(session, comment, account, message, priority=Priority.NUDGE)
    return f"{stage}: told {told} moderator(s)"


def _preload(session: SchoolSession, reminders: list[Reminder]) -> None:
    """Load the comments and accounts of a batch in two queries, not two per reminder."""
    ids = {r.comment_id for r in reminders if r.comment_id is not None}
    if ids:
        comments = session.exec(
            select(Comment).where(
                col(Comment.school_id) == session.school_id, col(Comment.id).in_(ids)
            )
        ).all()
        accounts = {c.account_id for c in comments}
        owners = session.exec(
            select(OfficialAccount).where(
                col(OfficialAccount.school_id) == session.school_id,
                col(OfficialAccount.id).in_(accounts),
            )
        )
        # The identity map holds objects weakly: keep them, so session.get finds them.
        session.info["preloaded"] = [*comments, *owners.all()]
