"""Official accounts: the register (AC-REGISTER, AC-LEAVER) and comments awaiting a reply.

Logging a comment fixes its MO-24H deadline and schedules its reminders in the same
transaction, so a comment can't exist without them. Offensive comments, complaints and
press enquiries go to SLT at once (MO-OFFENSIVE, MO-COMPLAINT, MO-JOURNALIST).
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

import sqlalchemy as sa

from bot.domain.cases import Actor, teams_of
from bot.domain.messages import Message, Priority
from bot.features.comments import cards as cc
from bot.features.comments import queries as comments_queries
from bot.features.comments.rules import CommentIn, needs_slt_now
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage import scheduling
from bot.storage.scoping import SchoolSession, get_in_school
from bot.storage.tables import Comment, OfficialAccount

log = logging.getLogger(__name__)
ESCALATE_AFTER = timedelta(hours=1)
SNOOZE = timedelta(hours=1)
MIN_MODERATORS = 2
CLOSED_HOW = {
    cc.REPLIED: ("replied", "replied to"),
    cc.ACKNOWLEDGED: ("acknowledged", "acknowledged publicly"),
}


class RegisterError(ValueError):
    """A register change that breaks a rule; the message says which."""


class Moderation:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.pack = kernel.pack
        self.calendar = kernel.calendar

    # --- the register ------------------------------------------------------------------

    def add_account(
        self,
        session: SchoolSession,
        *,
        name: str,
        purpose: str,
        platform: str,
        author: str,
        moderators: list[str],
        contacts: list[str],
        by: str,
    ) -> OfficialAccount:
        _check_people(moderators, contacts, self.kernel.platform_names)
        now = self.kernel.now()
        account = OfficialAccount(
            name=name,
            purpose=purpose,
            platform=platform,
            author=author,
            approved_on=now,
            moderators=moderators,
            contacts=contacts,
        )
        session.add(account)
        session.flush()
        repo.audit(session, now, by, "register.added", f"account:{account.id}", name=name)
        return account

    def change(
        self,
        session: SchoolSession,
        account_id: int,
        by: str,
        *,
        moderators: list[str] | None = None,
        contacts: list[str] | None = None,
        author: str | None = None,
        close: bool = False,
    ) -> OfficialAccount:
        """Change moderators, transfer to a new lead, or close (AC-LEAVER)."""
        account = get_in_school(session, OfficialAccount, account_id)
        if account is None:
            raise RegisterError(f"There is no account number {account_id} in the register.")
        if account.status != "open":
            raise RegisterError(f"Account {account_id} ({account.name}) is already closed.")
        now = self.kernel.now()
        if close:
            account.status, account.closed_on = "closed", now
            action = "register.closed"
        else:
            new_moderators = account.moderators if moderators is None else moderators
            new_contacts = account.contacts if contacts is None else contacts
            _check_people(new_moderators, new_contacts, self.kernel.platform_names)
            account.moderators, account.contacts = list(new_moderators), list(new_contacts)
            account.author = author or account.author
            action = "register.transferred" if author else "register.moderators"
        session.add(account)
        repo.audit(session, now, by, action, f"account:{account.id}", name=account.name)
        return account

    def export_csv(self, session: SchoolSession) -> str:
        """The register in the shape of the Dukeries record sheet (Appendix 2), then extras."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "Site Name/Purpose",
                "Approved Date",
                "Author",
                "Current Status",
                "Platform",
                "Moderators",
                "Closed Date",
                "Register No.",
            ]
        )
        for a in comments_queries.all_accounts(session):
            writer.writerow(
                [
                    f"{a.name} - {a.purpose}" if a.purpose else a.name,
                    self.calendar.local(a.approved_on).strftime("%d/%m/%Y"),
                    a.author,
                    a.status.capitalize(),
                    a.platform,
                    "; ".join(a.moderators),
                    self.calendar.local(a.closed_on).strftime("%d/%m/%Y") if a.closed_on else "",
                    a.id,
                ]
            )
        return out.getvalue()

    # --- comments ----------------------------------------------------------------------

    def log_comment(
        self, session: SchoolSession, data: CommentIn, source: str, by: str, platform: str | None
    ) -> tuple[Comment, bool]:
        """(comment, created). A repeated external id returns the first one, unchanged."""
        if data.id:
            earlier = comments_queries.comment_by_external_id(session, data.id)
            if earlier is not None:
                return earlier, False
        account = comments_queries.find_account(session, data.account)
        if account is None:
            raise RegisterError(f"No open account '{data.account}' in the register.")
        now = self.kernel.now()
        received = min(data.received_at or now, now)
        comment = Comment(
            account_id=account.id or 0,
            author_type=data.author_type,
            text=data.text,
            link=data.link,
            received_at=received,
            due_at=self.calendar.reply_deadline(received),
            offensive=data.offensive,
            complaint=data.complaint,
            source=source,
            logged_by=by,
            platform=platform,
            external_id=data.id,
        )
        try:  # insert-or-get: the same new id posted twice at once stores one comment
            with session.begin_nested():
                session.add(comment)
                session.flush()
        except sa.exc.IntegrityError:
            earlier = comments_queries.comment_by_external_id(session, data.id) if data.id else None
            if earlier is None:
                raise
            return earlier, False
        cid = comment.id
        assert cid is not None
        scheduling.schedule(
            session,
            f"comment:{cid}:nudge",
            "comment.nudge",
            self.calendar.nudge_time(comment.due_at),
            comment_id=cid,
        )
        scheduling.schedule(
            session, f"comment:{cid}:deadline", "comment.deadline", comment.due_at, comment_id=cid
        )
        scheduling.schedule(
            session,
            f"comment:{cid}:escalate",
            "comment.escalate",
            comment.due_at + ESCALATE_AFTER,
            comment_id=cid,
        )
        repo.audit(
            session,
            now,
            by,
            "comment.logged",
            comment.ref,
            account=account.id,
            author_type=comment.author_type,
            source=source,
        )
        message = cc.moderator_nudge(self.pack, comment, account, "new", now)
        self.tell_contacts(session, comment, account, message, skip=by)
        if needs_slt_now(
            comment.author_type, offensive=comment.offensive, complaint=comment.complaint
        ):
            self.escalate(session, comment, account, _why_now(comment))
        log.info("comment %s logged (source=%s)", comment.ref, source)
        return comment, True

    def tell_contacts(
        self,
        session: SchoolSession,
        comment: Comment,
        account: OfficialAccount,
        message: Message,
        skip: str | None = None,
        *,
        priority: Priority | None = None,
    ) -> int:
        """DM every reachable moderator; with none, SLT hear instead so nothing is missed."""
        told = 0
        for contact in account.contacts:
            platform, _, user = contact.partition(":")
            if user and contact != skip:
                self.kernel.outbox.tell_user(session, platform, user, message, priority=priority)
                told += 1
        if not account.contacts:
            self.escalate(session, comment, account, "This account has no moderator I can message.")
        return told

    def escalate(
        self, session: SchoolSession, comment: Comment, account: OfficialAccount, reason: str
    ) -> None:
        message = cc.slt_alert(self.pack, comment, account, reason)
        for platform in self.platforms_for(comment):
            self.kernel.outbox.announce_team(session, platform, "slt", message)
        if comment.escalated_at is None:
            comment.escalated_at = self.kernel.now()
            if comment.status == "awaiting":
                comment.status = "escalated"
            session.add(comment)
        repo.audit(session, self.kernel.now(), "system", "comment.escalated", comment.ref)

    def platforms_for(self, comment: Comment) -> tuple[str, ...]:
        return (comment.platform,) if comment.platform else self.kernel.platforms

    # --- the nudge buttons -------------------------------------------------------------

    def act(self, session: SchoolSession, actor: Actor, action: str, value: str) -> list[Message]:
        number = value.upper().removeprefix("CM-")
        # ASCII digits that fit an integer column: not "²", not 20 digits (OverflowError).
        valid = number.isascii() and number.isdigit() and len(number) <= 9
        comment = get_in_school(session, Comment, int(number)) if valid else None
        account = session.get(OfficialAccount, comment.account_id) if comment else None
        if comment is None or account is None:
            return [Message("I can't find that comment any more. Nothing has changed.")]
        if actor.key not in account.contacts and "slt" not in teams_of(self.pack, actor):
            return [
                Message(
                    f"Only the moderators of {account.name} or SLT can do that. Nothing has changed."
                )
            ]
        now = self.kernel.now()
        if comment.status not in ("awaiting", "escalated"):
            return [Message(f"{comment.ref} is already closed ({comment.status}). Nothing to do.")]
        who = actor.name or actor.user_id
        if action in CLOSED_HOW:
            status, how = CLOSED_HOW[action]
            if not comments_queries.close_comment(session, comment.id or 0, status, now, actor.key):
                return [Message(f"{comment.ref} was closed a moment ago. Nothing to do.")]
            comments_queries.cancel_comment_reminders(session, comment.id or 0, now)
            repo.audit(session, now, actor.key, f"comment.{status}", comment.ref, by=actor.name)
            if comment.escalated_at is not None:
                notice = cc.closed_notice(comment, account, how, who)
                for platform in self.platforms_for(comment):
                    self.kernel.outbox.announce_team(session, platform, "slt", notice)
            return [Message(f"Thank you. {comment.ref} is closed as {how}. No more reminders.")]
        if action == cc.OFFENSIVE:
            comment.offensive = True
            session.add(comment)
            repo.audit(session, now, actor.key, "comment.offensive", comment.ref, by=actor.name)
            self.escalate(session, comment, account, f"{who} marked this comment offensive.")
            return [
                Message(
                    f"SLT have been told about {comment.ref}. "
                    + self.pack.cited(
                        "Hide the comment if you can and keep a screenshot.", "MO-OFFENSIVE"
                    )
                )
            ]
        # "Remind me in an hour": one more reminder, leaving the deadline and the escalation
        # where they are, so a snooze can never hide a deadline from SLT or the moderators.
        at = now + SNOOZE
        scheduling.schedule(
            session,
            f"comment:{comment.id}:snooze:{int(at.timestamp())}",
            "comment.nudge",
            at,
            comment_id=comment.id,
        )
        repo.audit(session, now, actor.key, "comment.snoozed", comment.ref, by=actor.name)
        return [Message(f"Snoozed. I'll remind you about {comment.ref} in an hour.")]


def _why_now(comment: Comment) -> str:
    if comment.offensive:
        return "A comment was marked offensive, so SLT are told at once."
    if comment.complaint:
        return "This comment is a complaint, so it follows the Complaints Policy."
    return "This is a press enquiry: journalists are answered by SLT."


def _check_people(moderators: list[str], contacts: list[str], platforms: tuple[str, ...]) -> None:
    if len([m for m in moderators if m.strip()]) < MIN_MODERATORS:
        raise RegisterError(
            f"Every official account needs at least {MIN_MODERATORS} named moderators."
        )
    for contact in contacts:
        platform, _, user = contact.partition(":")
        if platform not in platforms or not user:
            names = ", ".join(f"{name}:" for name in platforms)
            raise RegisterError(
                f"'{contact}' is not a chat id. Use {names} followed by the person's id "
                "(for example slack:U123ABC)."
            )
