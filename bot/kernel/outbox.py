"""The outbox: telling a person, announcing to a team, and handing both to the platforms.

Features write messages here inside their unit of work; each platform's send loop
claims them (see storage.scheduling.claim_outbox), so a message is never lost between
the database commit and the platform's send.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import select

from bot.domain.cases import role_of_team
from bot.domain.messages import Button, Message, Priority
from bot.kernel.clock import Clock
from bot.kernel.work import UnitOfWork
from bot.storage import outbox as outbox_rows
from bot.storage import repository as repo
from bot.storage import scheduling
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case
from bot.storage.tables import Outbox as OutboxRow

OPEN_WEB = "web.open"  # a one-time link to a case in the web workspace
ALL_CASES = "all"  # OPEN_WEB's value for the list of cases rather than one case
EMAIL = "email"  # the outbox's platform and target kind for emails (bot/platforms/email)


def _priority(message: Message, given: Priority | None) -> int:
    if given is not None:
        return int(given)
    return int(Priority.URGENT if message.urgent else Priority.NORMAL)


class SignInLinks(Protocol):
    """The web workspace's one-time sign-in links (bot.web.access), when it is on."""

    def add_link(
        self,
        session: SchoolSession,
        platform: str,
        user_id: str,
        name: str | None,
        path: str,
        *,
        lifetime: timedelta | None = None,
        confirm: bool = False,
    ) -> str: ...


@dataclass(frozen=True)
class PendingSend:
    """One message an adapter must post: to a team channel or to a person."""

    outbox_id: int
    target_kind: str
    target: str
    message: Message
    replaces_id: int | None
    replaces_ref: str | None
    attempts: int
    maybe_sent: bool = False  # an earlier claim never recorded its send: look before sending
    priority: int = Priority.NORMAL
    case_id: int | None = None


class Outbox:
    def __init__(self, work: UnitOfWork, clock: Clock, instance: str):
        self.work = work
        self.clock = clock
        self.instance = instance  # names this process's claims on outbox rows
        self.lease = timedelta(seconds=60)
        self.enqueued = 0  # bumped on every queued message, so idle send loops can rest
        # Where team alerts go when nobody's platform decides it (webhook, CLI, scheduler).
        self.platforms: tuple[str, ...] = ("console",)
        self.web: SignInLinks | None = None
        # False claims oldest first whatever the priority: the order before priorities,
        # kept only as bench/priority_bench.py's baseline.
        self.by_priority = True
        self.emails = False  # the mail server is set up (SMTP_HOST): escalations may email

    # --- what features write ---------------------------------------------------------------

    def announce(
        self,
        session: SchoolSession,
        case_id: int,
        platform: str,
        team: str,
        message: Message,
        *,
        replaces_first: bool,
        priority: Priority | None = None,
    ) -> None:
        """A case's alert to its team; `replaces_first` updates the first alert in place.
        A case owned by one role goes to that role's holders as direct messages instead."""
        case = session.get(Case, case_id)
        if case is not None:
            message = self.with_web_button(message, case.ref)
        if self._to_role_holders(session, team, message, case_id, priority):
            return
        earlier = outbox_rows.first_alert_for(session, case_id) if replaces_first else None
        self.enqueued += 1
        outbox_rows.enqueue(
            session,
            self.clock.now(),
            platform,
            "team",
            team,
            message=message.to_dict(),
            case_id=case_id,
            replaces_id=earlier.id if earlier else None,
            priority=_priority(message, priority),
        )

    def announce_team(
        self,
        session: SchoolSession,
        platform: str,
        team: str,
        message: Message,
        *,
        priority: Priority | None = None,
    ) -> None:
        """A team alert that belongs to no case (comments, reminders)."""
        if self._to_role_holders(session, team, message, None, priority):
            return
        self.enqueued += 1
        outbox_rows.enqueue(
            session,
            self.clock.now(),
            platform,
            "team",
            team,
            message=message.to_dict(),
            priority=_priority(message, priority),
        )

    def _to_role_holders(
        self,
        session: SchoolSession,
        team: str,
        message: Message,
        case_id: int | None,
        priority: Priority | None,
    ) -> bool:
        """One-role cases (a concern about a colleague) never reach a channel: each holder
        of the role gets a direct message, on the platform they hold it on."""
        role = role_of_team(team)
        if role is None:
            return False
        for holder in repo.holders(session, [role]):
            self.tell_user(
                session, holder.platform, holder.user_id, message, case_id, priority=priority
            )
        return True

    def tell_user(
        self,
        session: SchoolSession,
        platform: str,
        user_id: str,
        message: Message,
        case_id: int | None = None,
        *,
        priority: Priority | None = None,
    ) -> None:
        """A direct message; its priority follows the message (urgent or not) unless the
        caller says otherwise (a nudge, the yearly reminder to everyone)."""
        self.enqueued += 1
        outbox_rows.enqueue(
            session,
            self.clock.now(),
            platform,
            "user",
            user_id,
            message=message.to_dict(),
            case_id=case_id,
            priority=_priority(message, priority),
        )

    def email(
        self, session: SchoolSession, person: str, message: Message, case_id: int | None
    ) -> None:
        """An email to `person` ("platform:user_id"), about a case or (None) about the bot
        itself. The address is read when it is sent, so none is copied into the outbox, and
        an erased person gets none."""
        self.enqueued += 1
        outbox_rows.enqueue(
            session,
            self.clock.now(),
            EMAIL,
            EMAIL,
            person,
            message=message.to_dict(),
            case_id=case_id,
            priority=_priority(message, None),
        )

    def with_web_button(self, message: Message, ref: str = ALL_CASES) -> Message:
        """Add "Open in browser" (a one-time link for whoever presses it) when the web
        workspace is on; it lands on the case `ref`, or on the list of cases."""
        if self.web is None:
            return message
        button = Button(OPEN_WEB, "Open in browser", ref)
        return dataclasses.replace(message, buttons=(*message.buttons, button))

    # --- what the platforms' send loops call -------------------------------------------------

    def pending(
        self, platform: str, limit: int = 50, bulk_limit: int | None = None
    ) -> list[PendingSend]:
        """Claim due messages for this instance, most urgent first, at most `bulk_limit` of
        them bulk sends (see scheduling.claim_outbox)."""
        bulk = (Priority.BULK, bulk_limit) if bulk_limit is not None else None
        with self.work.session() as session:
            claimed = scheduling.claim_outbox(
                session,
                platform,
                self.clock.now(),
                self.lease,
                limit,
                token=self.instance,
                bulk=bulk,
                fifo=not self.by_priority,
            )
            result = []
            for row, maybe_sent in claimed:
                earlier = session.get(OutboxRow, row.replaces_id) if row.replaces_id else None
                result.append(
                    PendingSend(
                        row.id or 0,
                        row.target_kind,
                        row.target,
                        Message.from_dict(row.message),
                        row.replaces_id,
                        earlier.external_ref if earlier else None,
                        row.attempts,
                        maybe_sent,
                        row.priority,
                        row.case_id,
                    )
                )
            session.commit()
            return result

    def release(self, outbox_ids: list[int]) -> None:
        """Give back claimed messages this instance will not send in this pass."""
        with self.work.session() as session:
            scheduling.release_claims(session, outbox_ids, self.instance, self.clock.now())
            session.commit()

    def still_ours(self, outbox_id: int) -> bool:
        with self.work.session() as session:
            ours = scheduling.renew_claim(
                session, outbox_id, self.instance, self.clock.now(), self.lease
            )
            session.commit()
            return ours

    def mark_sent(self, outbox_id: int, external_ref: str | None) -> None:
        with self.work.session() as session:
            row = session.get(OutboxRow, outbox_id)
            if row is not None:
                row.status, row.sent_at, row.external_ref = "sent", self.clock.now(), external_ref
                row.claim_token = None
                row.attempts += 1
                session.add(row)
            session.commit()

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed send; with no retry time it is parked as 'failed' for an admin."""
        with self.work.session() as session:
            row = session.get(OutboxRow, outbox_id)
            if row is not None:
                row.attempts += 1
                row.last_error = error[:500]
                row.claim_token = None
                if retry_at is None:
                    row.status = "failed"
                else:
                    row.next_attempt_at = retry_at
                session.add(row)
            session.commit()

    # --- held sends: a platform that can't send for a school now (Slack uninstalled) -------

    def hold(self, outbox_id: int, reason: str, until: datetime) -> None:
        """Put a claimed message back to wait, without counting an attempt: it is not
        failing, its school is disconnected. `resume` sends it as soon as that ends."""
        with self.work.session() as session:
            row = session.get(OutboxRow, outbox_id)
            if row is not None and row.status == "pending":
                row.last_error, row.next_attempt_at, row.claim_token = reason, until, None
                session.add(row)
            session.commit()

    def resume(self, platform: str, reason: str) -> int:
        """Make every message held for `reason` due now; returns how many."""
        with self.work.session() as session:
            held = session.exec(
                select(OutboxRow).where(
                    OutboxRow.platform == platform,
                    OutboxRow.status == "pending",
                    OutboxRow.last_error == reason,
                )
            ).all()
            for row in held:
                row.next_attempt_at = self.clock.now()
                session.add(row)
            session.commit()
            return len(held)
