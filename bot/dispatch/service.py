"""BotService: the one entry point every adapter calls (terminal, Slack, Teams, web, CLI).

A thin facade over the kernel: each call is one unit of work, and what it does is decided
by the features through the registry. If the database is down or locked, the person is
told to try again and nothing they gave earlier is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, ParamSpec, TypeVar

from sqlalchemy.engine import Engine

from bot.dispatch.press import ButtonPresses
from bot.dispatch.reminders import ReminderSweep
from bot.dispatch.text import ALREADY_ANSWERED, ConversationRouter
from bot.domain.evidence import EvidenceFile
from bot.domain.messages import Button, Message, clean_text
from bot.domain.policy import PolicyPack
from bot.features import default_registry
from bot.features.cases.commands import case_lines
from bot.features.cases.history import lines as history_lines
from bot.features.comments.desk import CommentDesk
from bot.intake.records import DeliveryRecords
from bot.kernel.buttons import ButtonTarget
from bot.kernel.clock import utcnow
from bot.kernel.core import Kernel
from bot.kernel.evidence_store import EvidenceStore
from bot.kernel.outbox import Delivery
from bot.kernel.work import BUSY, DB_DOWN, UnitOfWork, db_guard
from bot.storage import intake as accepted
from bot.storage import outbox as outbox_rows
from bot.storage import repository as repo

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

LOST_IN_RESTART = (
    "Sorry, I was restarted before I could read your message from {}, and we've moved on "
    "since. If it still matters, please send it again."
)
__all__ = ["BUSY", "DB_DOWN", "BotService", "Delivery", "answer_result"]


def answer_result(replies: list[Message]) -> Literal["taken", "stale", "unsaved"]:
    """What became of an answer button's press, so an adapter can mark the question's
    message: taken, stale (already answered), or unsaved (the person should press again)."""
    first = replies[0].text if replies else DB_DOWN
    if first in (DB_DOWN, BUSY):
        return "unsaved"
    return "stale" if first.startswith(ALREADY_ANSWERED) else "taken"


class BotService:
    def __init__(
        self,
        engine: Engine,
        pack: PolicyPack,
        evidence: EvidenceStore,
        clock: Callable[[], datetime] = utcnow,
        max_evidence_bytes: int = 25 * 1024 * 1024,
        platform_titles: Mapping[str, str] | None = None,
    ):
        self.engine = engine
        self.work = UnitOfWork(engine)
        self.kernel = Kernel(
            self.work,
            pack,
            default_registry(),
            evidence,
            clock,
            max_evidence_bytes,
            platform_titles,
        )
        self.pack, self.evidence, self.registry = pack, evidence, self.kernel.registry
        self.zone = self.kernel.clock.zone
        self.outbox = self.kernel.outbox
        # How long an accepted request's record may go unrenewed before it is run again.
        self.accepted_lease = timedelta(seconds=120)
        self.conversations = ConversationRouter(self.kernel)
        self.actions = ButtonPresses(self.kernel)
        self.reminders = ReminderSweep(self.kernel)
        self.comments = CommentDesk(self.kernel)
        self.session, self.run = self.work.session, self.work.run
        self.now, self.local_now = self.kernel.now, self.kernel.local_now
        self.local_time, self.actor = self.kernel.local_time, self.kernel.actor
        self.store_evidence = self.kernel.store_evidence
        self.tell_user, self.announce_team = self.outbox.tell_user, self.outbox.announce_team
        self.with_web_button = self.outbox.with_web_button
        self.log_comment, self.register = self.comments.log_comment, self.comments.register
        self.register_add = self.comments.register_add
        self.register_change = self.comments.register_change
        self.register_csv = self.comments.register_csv
        self.awaiting_comments = self.comments.awaiting_comments
        # What the platforms' doors and delivery loops record (see intake/records.py).
        self.deliveries = DeliveryRecords(self.kernel)
        self.first_delivery = self.deliveries.first_delivery
        self.recent_deliveries = self.deliveries.recent_deliveries
        self.inbox, self.queue_for_user = self.deliveries.inbox, self.deliveries.queue_for_user
        self.forget_old_deliveries = self.deliveries.forget_old_deliveries
        self.pending_deliveries, self.still_ours = self.outbox.pending, self.outbox.still_ours
        self.mark_delivered, self.mark_failed = self.outbox.mark_delivered, self.outbox.mark_failed

    # Settings the composition root and tests change after construction.
    platforms = property(
        lambda self: self.outbox.platforms, lambda self, v: setattr(self.outbox, "platforms", v)
    )
    web = property(lambda self: self.outbox.web, lambda self, v: setattr(self.outbox, "web", v))
    outbox_lease = property(
        lambda self: self.outbox.lease, lambda self, v: setattr(self.outbox, "lease", v)
    )
    instance = property(lambda self: self.outbox.instance)
    enqueued = property(lambda self: self.outbox.enqueued)
    max_evidence_bytes = property(
        lambda self: self.kernel.max_evidence_bytes,
        lambda self, v: setattr(self.kernel, "max_evidence_bytes", v),
    )

    # --- conversations ---------------------------------------------------------------------

    @db_guard(lambda: [Message(DB_DOWN)])
    def handle_message(
        self,
        platform: str,
        user_id: str,
        text: str,
        files: Iterable[EvidenceFile] = (),
        name: str | None = None,
        answering: str | None = None,
        delivery: str | None = None,
        request: int | None = None,
        sent_at: datetime | None = None,
    ) -> list[Message]:
        """A staff message. `answering` names the question a choice button belonged to.

        `delivery` is the platform's id for this message: a repeat (a retry) gets no reply,
        recorded in the same transaction as the turn, so a turn is never half-done.
        `request` is its accepted-request record, which keeps the replies in that same
        transaction. `sent_at` is given for a message run again after a crash: if their
        conversation has moved on since, it is not taken as the answer. Two turns for one
        person at once (a double click) are compare-and-set: the loser is rolled back and
        replayed against the winner's state.
        """
        files = tuple(files)
        text, name = clean_text(text) or "", clean_text(name)
        for attempt in range(3):
            with self.session() as session:
                if delivery and not repo.first_delivery(session, delivery, self.now()):
                    return []
                actor = self.actor(session, platform, user_id, name)
                if sent_at is not None and repo.dialog_changed_since(
                    session, platform, user_id, sent_at
                ):
                    replies = [Message(LOST_IN_RESTART.format(self.local_time(sent_at)))]
                    self._keep_replies(session, request, replies)
                    session.commit()
                    return replies
                try:
                    replies = self.conversations.handle(session, actor, text, files, answering)
                    self._keep_replies(session, request, replies)
                    session.commit()
                    return replies
                except repo.TurnConflict:
                    session.rollback()
                    log.info("concurrent turn for one user; replaying (attempt %s)", attempt + 1)
        return [Message(BUSY)]

    def handle_upload(
        self,
        platform: str,
        user_id: str,
        text: str,
        files: tuple[EvidenceFile, ...],
        refused: bool,
        name: str | None = None,
        delivery: str | None = None,
        request: int | None = None,
        sent_at: datetime | None = None,
    ) -> list[Message]:
        """A message that came with files, some perhaps `refused` (too big, a login page
        instead of the file). With nothing kept and no words, the pending question is asked
        again, so the person is never left without a next step. Every platform calls this."""
        if files or text.strip() or not refused:
            return self.handle_message(
                platform, user_id, text, files, name, None, delivery, request, sent_at
            )
        return self.greet(platform, user_id, "")

    @db_guard(lambda: [Message(DB_DOWN)])
    def greet(self, platform: str, user_id: str, lead: str | None = None) -> list[Message]:
        """The menu, or the pending question if a conversation is half-finished."""
        with self.session() as session:
            return self.conversations.greet(session, self.actor(session, platform, user_id), lead)

    @db_guard(lambda: ["I can't reach the school's records right now."])
    def case_lines(self, platform: str, user_id: str) -> list[str]:
        with self.session() as session:
            return case_lines(self.kernel, session, self.actor(session, platform, user_id))

    # --- buttons ---------------------------------------------------------------------------

    @db_guard(lambda: [Message(DB_DOWN)])
    def handle_action(
        self,
        platform: str,
        user_id: str,
        action: str,
        value: str,
        text: str | None = None,
        name: str | None = None,
        request: int | None = None,
        message: str | None = None,
    ) -> list[Message]:
        """A button press. Returns private replies for the person who pressed it.

        `message` is the close form's optional second field, for the reporter."""
        text, name, message = clean_text(text), clean_text(name), clean_text(message)
        with self.session() as session:
            actor = self.actor(session, platform, user_id, name)
            replies = self.actions.handle(session, actor, action, value, text, message)
            self._keep_replies(session, request, replies)
            session.commit()
            return replies

    @db_guard(lambda: DB_DOWN)
    def refusal_for(self, platform: str, user_id: str, action: str, value: str) -> str | None:
        """Why this person may not press this button, checked before asking them for text."""
        with self.session() as session:
            actor = self.actor(session, platform, user_id)
            return self.actions.refusal(session, actor, action, value)

    def form_for(self, action: str) -> dict[str, str] | None:
        """What a button asks for before it acts (a note, a reason), or None: a platform
        opens a form with these fields instead of acting at once."""
        spec = self.registry.buttons.get(action)
        if spec is None or spec.asks_for is None:
            return None
        form = {"asks_for": spec.asks_for}
        if spec.also_asks:
            form["also_asks"] = spec.also_asks
        if spec.form_hint:
            form["hint"] = spec.form_hint
        return form

    @db_guard(lambda: [])
    def buttons_for(self, platform: str, user_id: str, ref: str) -> list[Button]:
        """Terminal chat: the buttons of the newest alert about `ref` this person was sent,
        so `close FR-0006` works in a later chat too. Pressing one still checks everything."""
        with self.session() as session:
            teams = self.kernel.reader_teams(session, platform, user_id)
            for row in outbox_rows.messages_mentioning(session, platform, user_id, teams, ref):
                message = Message.from_dict(row.message)
                if buttons := [b for b in message.buttons if _target_ref(b.value) == ref]:
                    return buttons
            return []

    # --- records ---------------------------------------------------------------------------

    def history_lines(self, session: Any, ref: str, notes: bool = False) -> list[str]:
        return history_lines(self.pack, session, ref, notes)

    def announce(self, session: Any, case_id: int, platform: str, team: str, message: Message, replaces_first: bool) -> None:  # fmt: skip
        self.outbox.announce(session, case_id, platform, team, message, replaces_first)

    def sweep(self) -> int:
        """One scheduler tick (every instance runs these; claims keep them apart)."""
        return self.reminders.sweep()

    def prepare_schedules(self) -> None:
        with self.session() as session:
            for schedule in self.registry.schedules:
                schedule(self.kernel, session)
            session.commit()

    @staticmethod
    def _keep_replies(session: Any, request: int | None, replies: list[Message]) -> None:
        if request is not None:
            accepted.keep_replies(session, request, [m.to_dict() for m in replies])


def _target_ref(value: str) -> str | None:
    target = ButtonTarget.decode(value)
    return target.ref if target else None
