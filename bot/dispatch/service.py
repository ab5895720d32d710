"""BotService: the one entry point every platform calls (terminal, Slack, Teams, web).

A thin facade: each call is one unit of work, and what it does is decided by the features
through the registry. A person's words arrive as a `StaffMessage`, a record button as a
`ButtonPress`; each gives back a `TurnResult`. If the database is down or locked, the
person is told to try again and nothing they gave earlier is lost.

What the platforms need beyond turns is reached through its parts, not copied onto it:
`kernel` (pack, clock, unit of work, registry, evidence), `outbox` (sending), `intake`
(repeat ids, the terminal inbox, replies queued for the outbox) and `comments` (the desk).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.dispatch.daily_jobs import DailyJobs
from bot.dispatch.press import ButtonPresses
from bot.dispatch.reminders import ReminderSweep
from bot.dispatch.text import ConversationRouter
from bot.dispatch.unfinished import UnfinishedReports
from bot.domain.cases import can_handle, can_view
from bot.domain.messages import Button, Message, clean_name, clean_text
from bot.domain.policy import PolicyPack
from bot.domain.schools import FIRST_SCHOOL
from bot.domain.turns import ButtonPress, StaffMessage, TurnResult, TurnStatus
from bot.features import build_registry
from bot.features.cases import reopening
from bot.features.cases.commands import case_lines
from bot.features.comments.desk import CommentDesk
from bot.intake.records import IntakeRecords
from bot.kernel.buttons import ButtonTarget
from bot.kernel.clock import utcnow
from bot.kernel.core import Kernel
from bot.kernel.evidence_store import EvidenceStore
from bot.kernel.outbox import PendingSend
from bot.kernel.registry import Registry
from bot.kernel.work import BUSY, DB_DOWN, UnitOfWork, db_guard
from bot.observability import metrics
from bot.storage import intake as intake_rows
from bot.storage import outbox as outbox_rows
from bot.storage import repository as repo

log = logging.getLogger(__name__)

LOST_IN_RESTART = (
    "Sorry, I was restarted before I could read your message from {}, and we've moved on "
    "since. If it still matters, please send it again."
)
__all__ = ["BUSY", "DB_DOWN", "BotService", "PendingSend"]


class BotService:
    def __init__(
        self,
        engine: Engine,
        pack: PolicyPack,
        evidence: EvidenceStore,
        clock: Callable[[], datetime] = utcnow,
        max_evidence_bytes: int = 25 * 1024 * 1024,
        *,
        platform_titles: Mapping[str, str] | None = None,
        registry: Registry | None = None,
        school_id: int = FIRST_SCHOOL,
    ):
        self.engine = engine
        self.work = UnitOfWork(engine, school_id)
        self.kernel = Kernel(
            self.work,
            pack,
            registry or build_registry(),
            evidence,
            clock,
            max_evidence_bytes=max_evidence_bytes,
            platform_titles=platform_titles,
        )
        self.outbox = self.kernel.outbox
        self.intake = IntakeRecords(self.kernel)
        self.comments = CommentDesk(self.kernel)
        self.conversations = ConversationRouter(self.kernel)
        self.actions = ButtonPresses(self.kernel)
        self.reminders = ReminderSweep(self.kernel)
        self.unfinished = UnfinishedReports(self.kernel)
        self.daily_jobs = DailyJobs(
            self.work, self.kernel.now, self.outbox.instance, school_id=school_id
        )

    # --- conversations ---------------------------------------------------------------------

    def receive(self, message: StaffMessage) -> TurnResult:
        """A staff message, timed and counted by outcome (see bot/observability/metrics)."""
        with metrics.timed_turn(message.platform, "message") as turn:
            result = self._receive(message)
            turn.outcome = result.status.value
            return result

    def press(self, press: ButtonPress) -> TurnResult:
        """A record button, timed and counted by outcome."""
        with metrics.timed_turn(press.platform, "press") as turn:
            result = self._press(press)
            turn.outcome = result.status.value
            return result

    @db_guard(lambda: TurnResult.unsaved(DB_DOWN))
    def _receive(self, message: StaffMessage) -> TurnResult:
        """A staff message: start or continue a conversation, or run a text command.

        A repeat (a platform's retry) gets no reply, recorded in the same transaction as
        the turn, so a turn is never half-done. Two turns for one person at once (a double
        click) are compare-and-set: the loser is rolled back and replayed against the
        winner's state. Files that were all refused, with no words, ask the pending
        question again, so the person is never left without a next step.
        """
        if message.files_refused and not message.files and not message.text.strip():
            return TurnResult(self.greet(message.platform, message.user_id, ""))
        text, name = clean_text(message.text) or "", clean_name(message.name)
        kernel = self.kernel
        for attempt in range(3):
            with kernel.session() as session:
                if message.request_id and not repo.first_request(
                    session, message.request_id, kernel.now()
                ):
                    return TurnResult([], TurnStatus.REPEAT)
                actor = kernel.actor(session, message.platform, message.user_id, name)
                if message.sent_at is not None and repo.dialog_changed_since(
                    session, message.platform, message.user_id, message.sent_at
                ):
                    result = TurnResult(
                        [Message(LOST_IN_RESTART.format(kernel.local_time(message.sent_at)))]
                    )
                    _keep(session, message.intake_id, result)
                    session.commit()
                    return result
                try:
                    result = self.conversations.handle(
                        session, actor, text, message.files, message.answering
                    )
                    _keep(session, message.intake_id, result)
                    session.commit()
                    return result
                except repo.TurnConflict:
                    session.rollback()
                    log.info("concurrent turn for one user; replaying (attempt %s)", attempt + 1)
        return TurnResult.unsaved(BUSY)

    @db_guard(lambda: DB_DOWN)
    def upload_refusal(self, platform: str, user_id: str) -> str | None:
        """Asked before a platform downloads a file: why it may not be kept now (a report
        of a nude image of a child), or None. If it can't be checked, nothing is taken."""
        return self.kernel.upload_refusal(platform, user_id)

    @db_guard(lambda: [Message(DB_DOWN)])
    def greet(self, platform: str, user_id: str, lead: str | None = None) -> list[Message]:
        """The menu, or the pending question if a conversation is half-finished."""
        with self.kernel.session() as session:
            actor = self.kernel.actor(session, platform, user_id)
            return self.conversations.greet(session, actor, lead)

    @db_guard(lambda: ["I can't reach the school's records right now."])
    def case_lines(self, platform: str, user_id: str) -> list[str]:
        with self.kernel.session() as session:
            return case_lines(self.kernel, session, self.kernel.actor(session, platform, user_id))

    # --- buttons ---------------------------------------------------------------------------

    @db_guard(lambda: TurnResult.unsaved(DB_DOWN))
    def _press(self, press: ButtonPress) -> TurnResult:
        """A record button. Its replies are private, for the person who pressed it."""
        text, name = clean_text(press.text), clean_name(press.name)
        message = clean_text(press.message)
        with self.kernel.session() as session:
            actor = self.kernel.actor(session, press.platform, press.user_id, name)
            replies = self.actions.handle(
                session, actor, press.action, press.value, text, message=message
            )
            result = TurnResult(replies)
            _keep(session, press.intake_id, result)
            session.commit()
            return result

    @db_guard(lambda: DB_DOWN)
    def refusal_for(self, platform: str, user_id: str, action: str, value: str) -> str | None:
        """Why this person may not press this button, checked before asking them for text."""
        with self.kernel.session() as session:
            actor = self.kernel.actor(session, platform, user_id)
            return self.actions.refusal(session, actor, action, value)

    def form_for(self, action: str) -> dict[str, str] | None:
        """What a button asks for before it acts (a note, a reason), or None: a platform
        opens a form with these fields instead of acting at once."""
        spec = self.kernel.registry.buttons.get(action)
        if spec is None or spec.asks_for is None:
            return None
        form = {"asks_for": spec.asks_for}
        if spec.also_asks:
            form["also_asks"] = spec.also_asks
        if spec.form_hint:
            form["hint"] = spec.form_hint
        return form

    @db_guard(lambda: "")
    def describe(self, platform: str, user_id: str, ref: str) -> str:
        """A case in a few words for a prompt that acts on it ("CB-0003, urgent
        cyberbullying or online abuse"), for someone who may see it; else the reference."""
        with self.kernel.session() as session:
            case = repo.case_by_ref(session, ref)
            actor = self.kernel.actor(session, platform, user_id)
            if case is None or not can_view(
                self.kernel.pack, actor, case.team, f"{case.platform}:{case.reporter_id}"
            ):
                return ref
            urgent = "urgent " if case.urgent and case.status != "closed" else ""
            return f"{ref}, {urgent}{self.kernel.registry.case_kind(case.kind).title.lower()}"

    @db_guard(lambda: [])
    def buttons_for(self, platform: str, user_id: str, ref: str) -> list[Button]:
        """Terminal chat: what `close FR-0006` can press, in a later chat too: a case's
        buttons as it is now, for its team; for anything else (a comment, a request) the
        newest alert about `ref` this person was sent. Pressing one still checks everything."""
        with self.kernel.session() as session:
            case = repo.case_by_ref(session, ref)
            actor = self.kernel.actor(session, platform, user_id)
            own_alert = case is not None and case.kind in self.kernel.registry.alerts
            if (
                case is not None
                and not own_alert
                and can_handle(self.kernel.pack, actor, case.team)
            ):
                # The case as it is now, not an alert sent before it changed.
                message = self.outbox.with_web_button(Message(""), ref)
                return [*reopening.team_buttons(self.kernel, case), *message.buttons]
            teams = self.kernel.reader_teams(session, platform, user_id)
            for row in outbox_rows.messages_mentioning(session, platform, user_id, teams, ref):
                message = Message.from_dict(row.message)
                if buttons := [b for b in message.buttons if _target_ref(b.value) == ref]:
                    return buttons
            return []

    # --- the scheduler ---------------------------------------------------------------------

    def sweep(self) -> int:
        """One scheduler tick (every instance runs these; claims keep them apart)."""
        return self.reminders.sweep() + self.unfinished.sweep()

    def prepare_schedules(self) -> None:
        with self.kernel.session() as session:
            for schedule in self.kernel.registry.schedules:
                schedule(self.kernel, session)
            session.commit()


def _keep(session: Any, intake_id: int | None, result: TurnResult) -> None:
    if intake_id is not None:
        intake_rows.keep_result(session, intake_id, result.to_stored())


def _target_ref(value: str) -> str | None:
    target = ButtonTarget.decode(value)
    return target.ref if target else None
