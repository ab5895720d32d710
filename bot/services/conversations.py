"""Messages from staff: start or continue a conversation, and open a case when it finishes."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlmodel import Session

from bot.dialogs import engine
from bot.dialogs.comment import CommentOutcome
from bot.dialogs.outcome import Outcome
from bot.dialogs.parsing import InvalidAnswer, normalise, parse_choice
from bot.dialogs.registry import DIALOGS, MENU, MENU_STEP, classify
from bot.domain.cases import Actor, CaseKind, CaseStatus, can_view, case_reference, teams_of
from bot.domain.comments import CommentIn
from bot.domain.evidence import EvidenceFile
from bot.domain.messages import MENTION, Button, Message
from bot.domain.policy import PolicyPack
from bot.services import cards, comment_cards
from bot.services.alerts import alert_for
from bot.services.case_view import case_view
from bot.services.moderation import RegisterError
from bot.storage import repository as repo
from bot.storage import scheduling
from bot.storage.tables import Approval, Case, CaseTask, DialogState, Evidence, OfficialAccount

if TYPE_CHECKING:
    from bot.services.bot import BotService

log = logging.getLogger(__name__)

GREETING = (
    "Hi, I'm the school's social media helper. What would you like to do? "
    "You can also just tell me what happened, in your own words."
)
MY_CASES = {"my cases", "cases", "my reports", "status"}
# Said when an answer button no longer answers anything (adapters look for it, e.g. to
# mark the old message in Slack as answered).
ALREADY_ANSWERED = "That question has already been answered."
GUIDANCE_GIVEN = "guidance_given"  # the key in Case.details
CASE_REF = re.compile(r"^(?:case\s+)?((?:FR|CB|AC)-[0-9]{1,6})$", re.I)  # ASCII digits only


class ConversationHandler:
    def __init__(self, service: BotService):
        self.service = service

    @property
    def pack(self) -> PolicyPack:
        return self.service.pack

    def handle(
        self,
        session: Session,
        actor: Actor,
        text: str,
        files: tuple[EvidenceFile, ...],
        answering: str | None = None,
    ) -> list[Message]:
        row = repo.get_dialog(session, actor.platform, actor.user_id)
        current = row.state if row is not None and row.dialog in DIALOGS else None
        if answering and not (
            (current is None and answering == MENU_STEP)
            or (current is not None and engine.answers_current(current, answering))
        ):
            # A button from an earlier question or conversation (a double click,
            # scrolling back, or a report finished since).
            return self._stale(session, actor, row)
        if row is None or row.dialog not in DIALOGS:
            return self._idle(session, actor, text, files)
        dialog = DIALOGS[row.dialog]
        turn = engine.advance(
            dialog, row.state, engine.UserInput(text, files), self.pack, self.service.local_now()
        )
        return self._apply(session, actor, dialog.name, turn)

    def _stale(self, session: Session, actor: Actor, row: DialogState | None) -> list[Message]:
        if row is None or row.dialog not in DIALOGS:
            return [Message(f"{ALREADY_ANSWERED} Message me any time to start something new.")]
        state = row.state
        if not state.get("conversation"):  # saved before ids: bind it, so new buttons work
            state = engine.bind(state)
            repo.save_dialog(session, actor.platform, actor.user_id, state, self.service.now())
        return [
            engine.current_prompt(
                DIALOGS[row.dialog],
                state,
                self.pack,
                self.service.local_now(),
                f"{ALREADY_ANSWERED} Here's where we are:",
            )
        ]

    def greet(self, session: Session, actor: Actor, lead: str | None = None) -> list[Message]:
        row = repo.get_dialog(session, actor.platform, actor.user_id)
        if row is None or row.dialog not in DIALOGS:
            return [Message(GREETING, choices=MENU, step=MENU_STEP)]
        dialog = DIALOGS[row.dialog]
        if lead is None:
            lead = f"Welcome back. We were in the middle of your {dialog.title.lower()}; your answers are saved."
        return [engine.current_prompt(dialog, row.state, self.pack, self.service.local_now(), lead)]

    def _apply(self, session: Session, actor: Actor, name: str, turn: engine.Turn) -> list[Message]:
        if turn.outcome is not None:
            repo.clear_dialog(session, actor.platform, actor.user_id)
            return self._finish(session, actor, name, turn.outcome)
        if turn.state is None:
            repo.clear_dialog(session, actor.platform, actor.user_id)
            log.info("dialog %s cancelled", name)
        else:
            repo.save_dialog(session, actor.platform, actor.user_id, turn.state, self.service.now())
        return turn.messages

    def _start(
        self,
        session: Session,
        actor: Actor,
        name: str,
        files: tuple[EvidenceFile, ...] = (),
        opening: str = "",
    ) -> list[Message]:
        dialog = DIALOGS[name]
        options = None
        if name == "comment":
            accounts = scheduling.open_accounts(session)
            if not accounts:
                return [
                    Message(
                        "There are no official accounts in the register yet, so there's nothing "
                        "to log a comment against. Ask your admin to add the account first."
                    )
                ]
            options = {"accounts": [[a.id, a.name] for a in accounts]}
        turn = engine.start(dialog, self.pack, self.service.local_now(), options, opening)
        if files and turn.state is not None:
            turn.state["answers"]["evidence"] = [engine.file_record(f) for f in files]
            names = ", ".join(f.describe() for f in files)
            turn.messages.insert(0, Message(f"Thanks, I've kept {names} as evidence."))
        log.info("dialog %s started", name)
        return self._apply(session, actor, name, turn)

    # --- when no conversation is in progress ---------------------------------------------

    def _idle(
        self, session: Session, actor: Actor, text: str, files: tuple[EvidenceFile, ...]
    ) -> list[Message]:
        said = normalise(text)
        if files:
            return self._start(session, actor, "cyberbullying", files)
        if len(text) > engine.MAX_MESSAGE_CHARS:
            return [
                Message(
                    "That message is too long for me. Please tell me in a sentence what happened, "
                    "and I'll guide you from there.",
                    choices=MENU,
                    step=MENU_STEP,
                )
            ]
        if said in MY_CASES:
            return self._my_cases(session, actor)
        if match := CASE_REF.match(text.strip()):
            return self._show_case(session, actor, match.group(1).upper())
        if said in engine.CANCEL_WORDS:
            return [Message("There's nothing in progress to cancel.", choices=MENU, step=MENU_STEP)]
        try:
            choice = parse_choice(text, MENU) if said else None
        except InvalidAnswer:
            choice = None
        if choice == "my_cases":
            return self._my_cases(session, actor)
        name = choice or classify(text)
        if name in DIALOGS:
            # Free text may already answer a question; a menu choice answers none.
            return self._start(session, actor, name, opening="" if choice else text)
        return [Message(GREETING, choices=MENU, step=MENU_STEP)]

    def case_lines(self, session: Session, actor: Actor) -> list[str]:
        own = repo.cases_reported_by(session, actor.platform, actor.user_id)
        decided = repo.approval_statuses(session, [c.id for c in own if c.id is not None])
        return [
            f"• {c.ref} {CaseKind(c.kind).title}: {cards.status_label(c, decided.get(c.id or 0))}"
            for c in own
        ]

    def _my_cases(self, session: Session, actor: Actor) -> list[Message]:
        lines = self.case_lines(session, actor)
        messages = [
            Message(
                "Your cases:\n" + "\n".join(lines)
                if lines
                else "You haven't reported anything yet."
            )
        ]
        team_cases = repo.open_cases_for_teams(session, teams_of(self.pack, actor))
        if team_cases:
            rows = [
                f"• {c.ref}{' (urgent)' if c.urgent else ''}: "
                f"{cards.STATUS_LABELS[CaseStatus(c.status)]}"
                for c in team_cases
            ]
            messages.append(Message("Open cases for your team:\n" + "\n".join(rows)))
        return messages

    def _show_case(self, session: Session, actor: Actor, ref: str) -> list[Message]:
        case = repo.case_by_ref(session, ref)
        if case is None or not can_view(
            self.pack, actor, case.team, f"{case.platform}:{case.reporter_id}"
        ):
            # Same answer for "missing" and "not yours", so references can't be probed.
            return [Message(f"I can't find a case {ref} that you can see.")]
        for_team = case.team in teams_of(self.pack, actor)
        history = self.service.history_lines(session, ref, notes=True) if for_team else []
        view = case_view(self.pack, session, case, for_team, history)
        return [self.service.with_web_button(view, case.ref)]

    # --- when a conversation finishes -----------------------------------------------------

    def _finish(self, session: Session, actor: Actor, name: str, outcome: Outcome) -> list[Message]:
        if isinstance(outcome, CommentOutcome):
            return self._log_comment(session, actor, outcome)
        advice = "\n".join(f"• {g.text}" for g in outcome.guidance)
        lead = f"Here's what to do:\n{advice}\n\n" if advice else ""
        if not outcome.open_case:
            repo.audit(
                session,
                self.service.now(),
                actor.key,
                "advice.given",
                actor.key,
                dialog=name,
                clauses=[g.clause for g in outcome.guidance],
            )
            return [Message(f"{lead}{outcome.closing}".strip())]
        case = self._open_case(session, actor, outcome)
        if outcome.kind is CaseKind.ACCOUNT_REQUEST:
            next_step = outcome.closing
        elif outcome.urgent:
            next_step = (
                "Someone will pick it up as soon as possible, and I'll message you when they do."
            )
        else:
            next_step = (
                "I'll message you when someone picks it up. You don't need to do anything else."
            )
        return [Message(f"{lead}Your reference is {case.ref}. {next_step}")]

    def _log_comment(
        self, session: Session, actor: Actor, outcome: CommentOutcome
    ) -> list[Message]:
        try:
            data = CommentIn.model_validate(outcome.fields)
            comment, _ = self.service.moderation.log_comment(
                session, data, "chat", actor.key, actor.platform
            )
        except (ValidationError, RegisterError) as problem:
            log.info("comment not logged: %s", type(problem).__name__)
            return [Message(f"Sorry, I couldn't log that comment: {problem}. Please start again.")]
        due = cards.local(self.pack, comment.due_at)
        # The person who logged it is told nothing more, so if they moderate the account
        # their confirmation carries the buttons the other moderators' message has.
        account = session.get(OfficialAccount, comment.account_id)
        buttons: tuple[Button, ...] = ()
        if account is not None and actor.key in account.contacts:
            nudge = comment_cards.moderator_nudge(
                self.pack, comment, account, "new", self.service.now()
            )
            buttons = nudge.buttons
        extra = (
            " Because of what it is, SLT have been told now."
            if comment.escalated_at is not None
            else ""
        )
        return [
            Message(
                f"Logged as {comment.ref}. A reply is due by {due} "
                f"{self.pack.cite('MO-24H')}. I'll remind the moderators before then.{extra}".replace(
                    " .", "."
                ),
                buttons=buttons,
            )
        ]

    def _open_case(self, session: Session, actor: Actor, outcome: Outcome) -> Case:
        now = self.service.now()
        number = repo.next_number(session, outcome.kind.value)
        case = Case(
            ref=case_reference(outcome.kind, number),
            kind=outcome.kind.value,
            status=CaseStatus.NEW.value,
            team=outcome.team,
            urgent=outcome.urgent,
            platform=actor.platform,
            reporter_id=actor.user_id,
            reporter_name=_display_name(actor.name),
            summary=outcome.summary,
            # The advice exactly as the reporter read it, for the record and the bundle.
            details={
                **outcome.details,
                GUIDANCE_GIVEN: [[g.clause, g.text] for g in outcome.guidance],
            },
            flags=outcome.flags,
            guidance=[g.clause for g in outcome.guidance],
            created_at=now,
            updated_at=now,
        )
        session.add(case)
        session.flush()
        assert case.id is not None
        for task in outcome.tasks:
            session.add(
                CaseTask(case_id=case.id, clause=task.clause, title=task.title, due_at=task.due)
            )
        for item in outcome.evidence:
            session.add(
                Evidence(
                    case_id=case.id,
                    filename=item["filename"],
                    content_type=item["content_type"],
                    size=item["size"],
                    sha256=item["sha256"],
                    uploaded_by=actor.key,
                    uploaded_at=now,
                )
            )
        repo.audit(
            session,
            now,
            actor.key,
            "case.opened",
            case.ref,
            team=case.team,
            urgent=case.urgent,
            clauses=case.guidance,
            by=actor.name,
        )
        if outcome.approval_stages:
            approval = Approval(
                case_id=case.id, stages=list(outcome.approval_stages), status="pending"
            )
            session.add(approval)
            session.flush()
        message = alert_for(self.pack, session, case, [])
        self.service.announce(
            session, case.id, actor.platform, case.team, message, replaces_first=False
        )
        self.service.reminders.schedule_for_case(session, case)
        log.info("case %s opened for team %s (urgent=%s)", case.ref, case.team, case.urgent)
        return case


def _display_name(name: str | None) -> str | None:
    """A name to keep on the case; Slack gives a mention tag, which is no name at all."""
    if not name or MENTION.fullmatch(name):
        return None
    return name[:200]
