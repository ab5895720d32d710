"""Buttons on alerts: case actions and account approvals, with roles checked here.

Every action re-checks the clicker's role against the database, whatever the adapter
showed them, and every state change is a compare-and-set so a double click acts once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session

from bot.domain import approvals
from bot.domain.cases import Actor, CaseStatus, NotAllowed, can_view, require_handler
from bot.domain.messages import Message
from bot.services import cards, comment_cards
from bot.services.alerts import alert_for
from bot.storage import repository as repo
from bot.storage.tables import ApprovalDecision, Case, OfficialAccount

if TYPE_CHECKING:
    from bot.services.bot import BotService

log = logging.getLogger(__name__)
MAX_NOTE = 2000
UNKNOWN_BUTTON = "Sorry, I don't recognise that button. Nothing has changed."
OPEN = (CaseStatus.NEW.value, CaseStatus.ACKNOWLEDGED.value, CaseStatus.IN_PROGRESS.value)


class ActionHandler:
    def __init__(self, service: BotService):
        self.service = service
        self.pack = service.pack

    def handle(
        self,
        session: Session,
        actor: Actor,
        action: str,
        value: str,
        text: str | None,
        message: str | None = None,
    ) -> list[Message]:
        """`text` is what the form asked for (a note, an outcome, a reason); `message` is
        the optional words for the reporter when a case is closed."""
        if action in comment_cards.ACTIONS:
            return self.service.moderation.act(session, actor, action, value)
        if action == cards.OPEN_WEB:
            return self._web_link(session, actor, value)
        if action not in cards.ACTIONS:
            return [Message(UNKNOWN_BUTTON)]
        ref, _, stage = value.partition(":")
        case = repo.case_by_ref(session, ref)
        if case is None:
            return [Message("I can't find that case any more. Nothing has changed.")]
        try:
            if action in (cards.APPROVE, cards.REJECT):
                return self._decide(session, actor, case, action == cards.APPROVE, text, stage)
            require_handler(self.pack, actor, case.team)
            return self._case_action(session, actor, case, action, text, message)
        except (NotAllowed, approvals.ReasonRequired, approvals.AlreadyDecided) as refusal:
            log.info("action %s on %s refused: %s", action, case.ref, type(refusal).__name__)
            return [Message(str(refusal))]

    def refusal(self, session: Session, actor: Actor, action: str, value: str) -> str | None:
        ref, _, stage = value.partition(":")
        case = repo.case_by_ref(session, ref)
        if case is None or case.id is None:
            return "I can't find that case any more. Nothing has changed."
        if action in (cards.APPROVE, cards.REJECT):
            approval = repo.approval_for(session, case.id)
            if approval is None or approval.status != "pending" or str(approval.current) != stage:
                return "This stage has already been decided. The message shows the outcome."
            role = approval.stages[approval.current]
            if role not in actor.roles:
                return f"Only the {self.pack.role_label(role)} can decide this stage. Nothing has changed."
            return None
        try:
            require_handler(self.pack, actor, case.team)
        except NotAllowed as refusal:
            return str(refusal)
        return None

    def _web_link(self, session: Session, actor: Actor, ref: str) -> list[Message]:
        """A one-time sign-in link to the case's page (or, with no case, the list of cases)
        for the person who pressed it only."""
        what, path = "your cases", "/web/"
        if ref != cards.ALL_CASES:
            case = repo.case_by_ref(session, ref)
            if case is None or not can_view(
                self.pack, actor, case.team, f"{case.platform}:{case.reporter_id}"
            ):
                return [Message(f"I can't find a case {ref} that you can see.")]
            what, path = case.ref, f"/web/cases/{case.ref}"
        if self.service.web is None:
            return [Message("The web workspace isn't switched on. Ask your IT lead about it.")]
        # A Slack mention is no name for a web page; the page then shows the user id.
        name = actor.name if actor.name and not actor.name.startswith("<@") else None
        link = self.service.web.add_link(session, actor.platform, actor.user_id, name, path)
        return [
            Message(
                f"Here's your sign-in link for {what}. It works once, in the next 10 minutes, "
                f"and only for you, so please don't forward it: {link}"
            )
        ]

    # --- cases ---------------------------------------------------------------------------

    def _case_action(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        action: str,
        text: str | None,
        message: str | None = None,
    ) -> list[Message]:
        now = self.service.now()
        who = actor.name or actor.user_id
        assert case.id is not None
        if action == cards.CASE_ACK:
            if not repo.transition_case(
                session,
                case.id,
                (CaseStatus.NEW.value,),
                {
                    "status": CaseStatus.ACKNOWLEDGED.value,
                    "acknowledged_at": now,
                    "updated_at": now,
                },
            ):
                return [Message(f"{case.ref} was already acknowledged. Nothing has changed.")]
            repo.audit(session, now, actor.key, "case.acknowledged", case.ref, by=who)
            self._refresh(session, case)
            self.service.tell_user(
                session,
                case.platform,
                case.reporter_id,
                cards.reporter_notice(case, "acknowledged", who),
                case.id,
            )
            return [Message(f"Thanks, you've acknowledged {case.ref}.")]
        if action == cards.CASE_ASSIGN:
            values = {
                "assignee_id": actor.user_id,
                "updated_at": now,
                "status": CaseStatus.IN_PROGRESS.value,
            }
            if case.assignee_id == actor.user_id:
                return [Message(f"{case.ref} is already assigned to you.")]
            if not repo.transition_case(session, case.id, OPEN, values):
                return [Message(f"{case.ref} is closed. Nothing has changed.")]
            if case.acknowledged_at is None:
                session.execute(
                    sa.update(Case).where(Case.id == case.id).values(acknowledged_at=now)
                )
                self.service.tell_user(
                    session,
                    case.platform,
                    case.reporter_id,
                    cards.reporter_notice(case, "acknowledged", who),
                    case.id,
                )
            repo.audit(session, now, actor.key, "case.assigned", case.ref, by=who)
            self._refresh(session, case)
            return [Message(f"{case.ref} is now assigned to you.")]
        note = (text or "").strip()
        if not note:
            prompt = (
                "Please type your note."
                if action == cards.CASE_NOTE
                else "Please say what the outcome was."
            )
            return [Message(f"{prompt} Nothing has changed yet.")]
        to_reporter = (message or "").strip() or None
        if len(note) > MAX_NOTE or len(to_reporter or "") > MAX_NOTE:
            return [
                Message(f"Please keep it under {MAX_NOTE:,} characters. Nothing has changed yet.")
            ]
        if action == cards.CASE_NOTE:
            repo.audit(session, now, actor.key, "case.note", case.ref, by=who, note=note)
            self._refresh(session, case)
            return [Message(f"Note added to {case.ref}.")]
        if not repo.transition_case(
            session,
            case.id,
            OPEN,
            {
                "status": CaseStatus.CLOSED.value,
                "outcome": note,
                "closed_at": now,
                "updated_at": now,
            },
        ):
            return [Message(f"{case.ref} was already closed. Nothing has changed.")]
        repo.audit(
            session,
            now,
            actor.key,
            "case.closed",
            case.ref,
            by=who,
            outcome=note,
            to_reporter=to_reporter,
        )
        self._refresh(session, case)
        # The outcome stays in the record; the reporter gets only the closing message.
        self.service.tell_user(
            session,
            case.platform,
            case.reporter_id,
            cards.reporter_notice(case, "closed", who, to_reporter),
            case.id,
        )
        told = "with your message" if to_reporter else "that it is closed"
        return [Message(f"{case.ref} is closed. The reporter has been told {told}.")]

    def _refresh(self, session: Session, case: Case) -> None:
        """Post the alert again in its new state; adapters update the original message."""
        session.flush()
        session.refresh(case)
        history = self.service.history_lines(session, case.ref)
        assert case.id is not None
        message = alert_for(self.pack, session, case, history)
        self.service.announce(
            session, case.id, case.platform, case.team, message, replaces_first=True
        )

    # --- approvals -----------------------------------------------------------------------

    def _decide(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        approve: bool,
        reason: str | None,
        stage_text: str,
    ) -> list[Message]:
        assert case.id is not None
        row = repo.approval_for(session, case.id)
        if row is None or row.id is None:
            return [Message("That request has no approval to decide. Nothing has changed.")]
        state = approvals.Approval(
            tuple(row.stages), row.current, approvals.ApprovalStatus(row.status)
        )
        if not stage_text:
            stage = row.current
        elif stage_text.isascii() and stage_text.isdigit() and len(stage_text) < 4:
            stage = int(stage_text)  # ASCII only: "²".isdigit() is True, but int("²") raises
        else:
            return [Message(UNKNOWN_BUTTON)]
        new_state, decision = approvals.decide(self.pack, state, actor, approve, reason, stage)
        now = self.service.now()
        who = actor.name or actor.user_id
        try:
            with session.begin_nested():
                session.add(
                    ApprovalDecision(
                        approval_id=row.id,
                        stage=decision.stage,
                        role=decision.role,
                        actor=actor.key,
                        approve=approve,
                        reason=decision.reason,
                        decided_at=now,
                    )
                )
                session.flush()
        except sa.exc.IntegrityError:
            raise approvals.AlreadyDecided(
                "Someone else decided this stage a moment ago. The message shows the outcome."
            ) from None
        if not repo.advance_approval(
            session,
            row.id,
            decision.stage,
            {"current": new_state.current, "status": new_state.status.value},
        ):
            raise approvals.AlreadyDecided("This stage has already been decided.")
        label = self.pack.role_label(decision.role)
        action = "approval.approved" if approve else "approval.rejected"
        repo.audit(
            session,
            now,
            actor.key,
            action,
            case.ref,
            by=who,
            role=decision.role,
            role_label=label,
            stage=decision.stage,
            reason=decision.reason,
        )
        if new_state.status is approvals.ApprovalStatus.PENDING:
            self._refresh(session, case)
            return [
                Message(
                    f"Approved for the {label}. It now goes to the "
                    f"{self.pack.role_label(new_state.stages[new_state.current])}."
                )
            ]
        outcome = "approved" if approve else f"rejected: {decision.reason}"
        repo.transition_case(
            session,
            case.id,
            OPEN,
            {
                "status": CaseStatus.CLOSED.value,
                "outcome": outcome,
                "closed_at": now,
                "updated_at": now,
            },
        )
        if approve:
            self._register(session, case, now)
        self._refresh(session, case)
        notice = cards.reporter_notice(
            case, "approved" if approve else "rejected", who, decision.reason
        )
        self.service.tell_user(session, case.platform, case.reporter_id, notice, case.id)
        return [
            Message(
                f"Done: {case.ref} is {'approved' if approve else 'rejected'}. "
                "The requester has been told."
            )
        ]

    def _register(self, session: Session, case: Case, now: datetime) -> None:
        details = case.details
        moderators = details.get("moderators") or details.get("run_by") or []
        session.add(
            OfficialAccount(
                name=details.get("name", case.ref),
                purpose=details.get("aim", ""),
                platform=case.summary.get("platform", ""),
                author=details.get("author") or ", ".join(details.get("run_by") or []),
                approved_on=now,
                status="open",
                moderators=list(moderators),
                case_id=case.id,
                # The requester gets the comment nudges until an admin adds more contacts.
                contacts=[f"{case.platform}:{case.reporter_id}"],
            )
        )
        repo.audit(session, now, "system", "register.added", case.ref, name=details.get("name"))
