"""BotService: the one entry point every adapter calls (terminal, Slack, Teams).

Each call is one database transaction. If the database is down or locked, the user is
told to try again and nothing they gave earlier is lost, because the previous turn's
state was already committed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.domain.cases import Actor, teams_of
from bot.domain.evidence import EvidenceFile, check_evidence
from bot.domain.messages import Button, Message, clean_text
from bot.domain.policy import PolicyPack
from bot.services import cards, history
from bot.services.actions import ActionHandler
from bot.services.conversations import ALREADY_ANSWERED, ConversationHandler
from bot.services.evidence_store import EvidenceStore
from bot.services.moderation import Moderation
from bot.services.register_calls import RegisterCalls
from bot.services.reminders import ReminderSweep
from bot.storage import accepted, scheduling
from bot.storage import repository as repo
from bot.storage.tables import Case, Outbox

if TYPE_CHECKING:
    from bot.web.access import WebAccess

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

DB_DOWN = (
    "Sorry, I can't reach the school's records right now, so I haven't saved that. "
    "Everything you told me before is safe. Please send it again in a minute."
)


BUSY = "Sorry, I was still saving your last answer. Please send that again."
LOST_IN_RESTART = (
    "Sorry, I was restarted before I could read your message from {}, and we've moved on "
    "since. If it still matters, please send it again."
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def answer_result(replies: list[Message]) -> Literal["taken", "stale", "unsaved"]:
    """What became of an answer button's press, so an adapter can mark the question's
    message: taken, stale (already answered), or unsaved (the person should press again)."""
    first = replies[0].text if replies else DB_DOWN
    if first in (DB_DOWN, BUSY):
        return "unsaved"
    return "stale" if first.startswith(ALREADY_ANSWERED) else "taken"


@dataclass(frozen=True)
class Delivery:
    """One message an adapter must post: to a team channel or to a person."""

    outbox_id: int
    target_kind: str
    target: str
    message: Message
    replaces_id: int | None
    replaces_ref: str | None
    attempts: int
    maybe_sent: bool = False  # an earlier claim never recorded its send: look before sending


def db_guard(fallback: Callable[[], R]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn a database outage into a kind reply instead of a crash."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError) as exc:
                log.error("database unavailable in %s: %s", fn.__name__, type(exc).__name__)
                return fallback()

        return inner

    return wrap


class BotService(RegisterCalls):
    def __init__(
        self,
        engine: Engine,
        pack: PolicyPack,
        evidence: EvidenceStore,
        clock: Callable[[], datetime] = utcnow,
        max_evidence_bytes: int = 25 * 1024 * 1024,
    ):
        self.engine = engine
        self.pack = pack
        self.evidence = evidence
        self.clock = clock
        self.max_evidence_bytes = max_evidence_bytes
        self.outbox_lease = timedelta(seconds=60)
        # How long an accepted request's record may go unrenewed before it is run again.
        self.accepted_lease = timedelta(seconds=120)
        self.instance = uuid.uuid4().hex  # names this process's claims on outbox rows
        self.enqueued = 0  # bumped on every queued message, so idle delivery loops can rest
        # Where team alerts go when nobody's platform decides it (webhook, CLI, scheduler).
        self.platforms: tuple[str, ...] = ("console",)
        self.zone = ZoneInfo(pack.calendar.timezone)
        sqlite = engine.dialect.name == "sqlite"
        self._turns: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if sqlite else contextlib.nullcontext()
        )
        # Database work has threads of its own (see `run`). On SQLite work takes turns
        # anyway (one writer), so two are enough, and fewer threads contending for the GIL
        # keep the event loop's acks quick under load.
        self.threads = concurrent.futures.ThreadPoolExecutor(
            2 if sqlite else None, thread_name_prefix="schoolbot-db"
        )
        # The web workspace's sign-in links, when SCHOOLBOT_PUBLIC_URL is set (bot/web).
        self.web: WebAccess | None = None
        self.conversations = ConversationHandler(self)
        self.actions = ActionHandler(self)
        self.moderation = Moderation(self)
        self.reminders = ReminderSweep(self)

    # --- shared helpers --------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def local_now(self) -> datetime:
        return self.clock().astimezone(self.zone)

    def local_time(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%H:%M")

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work. On SQLite, units of work in this process take turns.

        SQLite has one writer at a time, and a writer that finds it busy sleeps and polls
        (1, 2, 5 ... 100 ms). Queueing on a lock in Python hands over at once instead, which
        is several times faster under load and keeps the busy timeout for other processes.
        """
        with self._turns, Session(self.engine, expire_on_commit=False) as session:
            yield session

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Call `fn` (a database call) on the database's own threads, like asyncio.to_thread.

        Not the event loop's default threads: libraries that block on the network use
        those (botbuilder sends every Teams reply from one), so a slow Teams connector
        would otherwise hold up every conversation turn, Slack's included."""
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.threads, call)

    def actor(
        self, session: Session, platform: str, user_id: str, name: str | None = None
    ) -> Actor:
        return Actor(platform, user_id, repo.roles_of(session, platform, user_id), name)

    # --- what adapters call ----------------------------------------------------------------

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
        conversation has moved on since, it is not taken as the answer. Two turns for one person at once (a double click) are compare-and-set:
        the loser is rolled back and replayed against the winner's state.
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
                    replies = self.conversations.handle(
                        session, actor, text or "", files, answering
                    )
                    self._keep_replies(session, request, replies)
                    session.commit()
                    return replies
                except repo.TurnConflict:
                    session.rollback()
                    log.info("concurrent turn for one user; replaying (attempt %s)", attempt + 1)
        return [Message(BUSY)]

    @db_guard(lambda: [Message(DB_DOWN)])
    def greet(self, platform: str, user_id: str, lead: str | None = None) -> list[Message]:
        """The menu, or the pending question if a conversation is half-finished."""
        with self.session() as session:
            actor = self.actor(session, platform, user_id)
            return self.conversations.greet(session, actor, lead)

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

    @staticmethod
    def _keep_replies(session: Session, request: int | None, replies: list[Message]) -> None:
        if request is not None:
            accepted.keep_replies(session, request, [m.to_dict() for m in replies])

    @db_guard(lambda: DB_DOWN)
    def refusal_for(self, platform: str, user_id: str, action: str, value: str) -> str | None:
        """Why this person may not press this button, checked before asking them for text."""
        with self.session() as session:
            return self.actions.refusal(
                session, self.actor(session, platform, user_id), action, value
            )

    @db_guard(lambda: ["I can't reach the school's records right now."])
    def case_lines(self, platform: str, user_id: str) -> list[str]:
        with self.session() as session:
            return self.conversations.case_lines(session, self.actor(session, platform, user_id))

    def store_evidence(self, filename: str, content_type: str | None, data: bytes) -> EvidenceFile:
        """Check and keep a file's bytes; raises EvidenceRefused with a message for the user."""
        checked = check_evidence(filename, content_type, data, self.max_evidence_bytes)
        self.evidence.put(checked.sha256, data)
        return checked

    @db_guard(lambda: True)  # if the database is down, handle it and let that say so
    def first_delivery(self, key: str) -> bool:
        with self.session() as session:
            fresh = repo.first_delivery(session, key, self.now())
            session.commit()
            return fresh

    @db_guard(lambda: [])
    def recent_deliveries(self, seconds: float) -> list[str]:
        """Inbound ids recorded in the last `seconds` (a restarted replay check reads them)."""
        with self.session() as session:
            return repo.deliveries_since(session, self.now() - timedelta(seconds=seconds))

    @db_guard(lambda: [])
    def inbox(self, platform: str, user_id: str) -> list[Message]:
        """Terminal chat: team alerts and DMs this person has not seen yet."""
        with self.session() as session:
            teams = self._reader_teams(session, platform, user_id)
            rows = repo.inbox_since(session, platform, user_id, teams)
            if rows:
                repo.move_inbox_cursor(session, platform, user_id, rows[-1].id or 0)
            session.commit()
            return [Message.from_dict(r.message) for r in rows]

    @db_guard(lambda: [])
    def buttons_for(self, platform: str, user_id: str, ref: str) -> list[Button]:
        """Terminal chat: the buttons of the newest alert about `ref` this person was sent,
        so `close FR-0006` works in a later chat too. Pressing one still checks everything."""
        with self.session() as session:
            teams = self._reader_teams(session, platform, user_id)
            for row in repo.messages_mentioning(session, platform, user_id, teams, ref):
                message = Message.from_dict(row.message)
                if buttons := [b for b in message.buttons if b.value.split(":")[0] == ref]:
                    return buttons
            return []

    def _reader_teams(self, session: Session, platform: str, user_id: str) -> set[str]:
        actor = self.actor(session, platform, user_id)
        teams = teams_of(self.pack, actor)
        if actor.roles & set(self.pack.accounts.stages):
            teams.add("slt")
        return teams

    def pending_deliveries(self, platform: str, limit: int = 50) -> list[Delivery]:
        """Claim due messages for this instance (see scheduling.claim_outbox)."""
        with self.session() as session:
            claimed = scheduling.claim_outbox(
                session, platform, self.now(), self.outbox_lease, limit, self.instance
            )
            result = []
            for row, maybe_sent in claimed:
                earlier = session.get(Outbox, row.replaces_id) if row.replaces_id else None
                result.append(
                    Delivery(
                        row.id or 0,
                        row.target_kind,
                        row.target,
                        Message.from_dict(row.message),
                        row.replaces_id,
                        earlier.external_ref if earlier else None,
                        row.attempts,
                        maybe_sent,
                    )
                )
            session.commit()
            return result

    def still_ours(self, outbox_id: int) -> bool:
        with self.session() as session:
            ours = scheduling.renew_claim(
                session, outbox_id, self.instance, self.now(), self.outbox_lease
            )
            session.commit()
            return ours

    def mark_delivered(self, outbox_id: int, external_ref: str | None) -> None:
        with self.session() as session:
            row = session.get(Outbox, outbox_id)
            if row is not None:
                row.status, row.sent_at, row.external_ref = "sent", self.now(), external_ref
                row.claim_token = None
                row.attempts += 1
                session.add(row)
            session.commit()

    def mark_failed(self, outbox_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed send; with no retry time it is parked as 'failed' for an admin."""
        with self.session() as session:
            row = session.get(Outbox, outbox_id)
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

    @db_guard(lambda: None)
    def queue_for_user(
        self, platform: str, user_id: str, messages: list[Message], request: int | None = None
    ) -> None:
        """Replies an adapter could not send directly; its outbox loop retries them. The
        accepted request they answer is finished in the same transaction: from here the
        outbox owns them, and a rerun after a crash must not send them as well."""
        with self.session() as session:
            for message in messages:
                self.tell_user(session, platform, user_id, message)
            if request is not None:
                accepted.finish(session, [request])
            session.commit()

    def sweep(self) -> int:
        """One scheduler tick (every instance runs these; claims keep them apart)."""
        return self.reminders.sweep()

    @db_guard(lambda: 0)
    def forget_old_deliveries(self, keep: timedelta = timedelta(days=7)) -> int:
        """Platforms retry within minutes; a week of ids is plenty to spot a repeat, and
        the table no longer grows with every message for ever. Requests accepted a week
        ago and never run can't be run now (their platform is off): say so, and drop them."""
        with self.session() as session:
            forgotten = repo.forget_deliveries(session, self.now() - keep)
            if stranded := accepted.forget(session, self.now() - keep):
                log.error(
                    "%d chat requests accepted over a week ago were never handled (is their "
                    "platform still configured?); removed",
                    stranded,
                )
            session.commit()
            return forgotten

    def prepare_schedules(self) -> None:
        with self.session() as session:
            self.reminders.schedule_annual(session)
            session.commit()

    # --- used by the handlers --------------------------------------------------------------

    def announce(
        self,
        session: Session,
        case_id: int,
        platform: str,
        team: str,
        message: Message,
        replaces_first: bool,
    ) -> None:
        earlier = repo.first_alert_for(session, case_id) if replaces_first else None
        case = session.get(Case, case_id)
        if case is not None:
            message = self.with_web_button(message, case.ref)
        self.enqueued += 1
        repo.enqueue(
            session,
            self.now(),
            platform,
            "team",
            team,
            message.to_dict(),
            case_id,
            earlier.id if earlier else None,
        )

    def with_web_button(self, message: Message, ref: str = cards.ALL_CASES) -> Message:
        """Add "Open in browser" (a one-time link for whoever presses it) when the web
        workspace is on; it lands on the case `ref`, or on the list of cases."""
        if self.web is None:
            return message
        button = Button(cards.OPEN_WEB, "Open in browser", ref)
        return dataclasses.replace(message, buttons=(*message.buttons, button))

    def announce_team(self, session: Session, platform: str, team: str, message: Message) -> None:
        """A team alert that belongs to no case (comments, reminders)."""
        self.enqueued += 1
        repo.enqueue(session, self.now(), platform, "team", team, message.to_dict())

    def tell_user(
        self,
        session: Session,
        platform: str,
        user_id: str,
        message: Message,
        case_id: int | None = None,
    ) -> None:
        self.enqueued += 1
        repo.enqueue(session, self.now(), platform, "user", user_id, message.to_dict(), case_id)

    def history_lines(self, session: Session, ref: str, notes: bool = False) -> list[str]:
        return history.lines(self.pack, session, ref, notes)
