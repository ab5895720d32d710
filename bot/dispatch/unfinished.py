"""No half-finished report is lost (SG-UNFINISHED).

Each tick looks at conversations nobody has answered for a while:
- its reporter is reminded (after the pack's minutes, default 30), with the question it
  is waiting on, and again the next working morning;
- one that already concerns a child and stays unfinished for the pack's working hours
  (default 1) reaches the DSL as an unfinished report: who started it, when, and what it
  says so far, with a button to ask the reporter. It is a case from then on, and what the
  reporter adds later joins it.

Each conversation is handled in its own transaction, compare-and-set on its version, so
two instances never send the same reminder and a person's own answer always wins.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.dialogs import engine
from bot.dialogs.outcome import Outcome
from bot.dialogs.safeguarding import concerns_a_child
from bot.dispatch.text import REPORTER_NAME
from bot.domain.cases import Actor, CaseKind
from bot.domain.messages import Message, Priority
from bot.features.cases import opening
from bot.kernel.core import Kernel
from bot.kernel.registry import Conversation
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import DialogState

log = logging.getLogger(__name__)
MARKS = "unfinished"  # in the conversation's state: which reminders went, and when


class UnfinishedReports:
    def __init__(self, kernel: Kernel, batch: int = 25):
        self.kernel = kernel
        self.batch = batch

    def sweep(self) -> int:
        """One tick; returns how many conversations it acted on."""
        kernel = self.kernel
        now = kernel.now()
        wait = timedelta(minutes=kernel.pack.safeguarding.unfinished_reminder_minutes)
        with kernel.session() as session:
            idle = repo.idle_dialogs(session, now - wait, list(kernel.registry.conversations))
        acted = 0
        for platform, user_id in idle:
            if acted >= self.batch:
                break
            with kernel.session() as session:
                row = repo.get_dialog(session, platform, user_id)
                conversation = kernel.registry.conversations.get(row.dialog) if row else None
                if row is None or conversation is None:
                    continue
                if self._act(session, row, conversation, now):
                    session.commit()
                    acted += 1
        if acted:
            log.info("unfinished reports: acted on %s", acted)
        return acted

    def _act(
        self, session: SchoolSession, row: DialogState, conversation: Conversation, now: datetime
    ) -> bool:
        state: dict[str, Any] = dict(row.state)
        last = row.updated_at.isoformat()
        marks = dict(state.get(MARKS) or {})
        if marks.get("since") != last:  # they answered since: remind afresh from then
            marks = {"since": last, **({"to_dsl": marks["to_dsl"]} if "to_dsl" in marks else {})}
        calendar = self.kernel.calendar
        said: list[Message] = []
        escalate_at = calendar.add_working_hours(
            row.updated_at, self.kernel.pack.safeguarding.unfinished_to_dsl_hours
        )
        if (
            conversation.unfinished_to_dsl
            and not state.get(engine.CASE)
            and now >= escalate_at
            and concerns_a_child(state)
        ):
            ref = self._to_dsl(session, row, conversation, state)
            state[engine.CASE] = ref
            marks["to_dsl"] = now.isoformat()
            said.append(
                Message(
                    "Because what you started may concern a child, I've passed what you told "
                    f"me so far to the safeguarding lead ({ref}). You can still finish it: "
                    "anything you add joins the same case."
                )
            )
        if "reminded" not in marks:
            marks["reminded"] = now.isoformat()
            said.append(
                self._reminder(
                    row, conversation, state, "You started this and haven't finished it."
                )
            )
        elif "morning" not in marks and now >= self._next_morning(row.updated_at):
            marks["morning"] = now.isoformat()
            said.append(
                self._reminder(
                    row, conversation, state, "Good morning. Your report is still unfinished."
                )
            )
        if not said:
            return False
        state[MARKS] = marks
        if not repo.mark_dialog(session, row, state):
            session.rollback()  # they answered meanwhile, or another instance did this
            return False
        for message in said:
            self.kernel.outbox.tell_user(
                session, row.platform, row.user_id, message, priority=Priority.NUDGE
            )
        return True

    def _next_morning(self, last: datetime) -> datetime:
        calendar = self.kernel.calendar
        day = calendar.next_working_day(calendar.local(last).date())
        return calendar.add_working_hours(
            datetime.combine(day, self.kernel.pack.calendar.day_starts, calendar.zone), 0
        )

    def _reminder(
        self, row: DialogState, conversation: Conversation, state: dict[str, Any], lead: str
    ) -> Message:
        """The question it is waiting on, so one reply (or button) carries on."""
        kernel = self.kernel
        started = kernel.local_time(row.updated_at)
        text = (
            f"{lead} Your answers are saved (last one at {started}). Reply to carry on, or "
            "say cancel to stop."
        )
        return engine.current_prompt(
            conversation.dialog, state, kernel.pack, kernel.local_now(), text
        )

    def _to_dsl(
        self,
        session: SchoolSession,
        row: DialogState,
        conversation: Conversation,
        state: dict[str, Any],
    ) -> str:
        """An urgent case for the DSL team with what the report says so far."""
        kernel = self.kernel
        kind = _kind_for(kernel, conversation)
        answers = dict(state.get("answers") or {})
        opening_words = (state.get("options") or {}).get(engine.OPENING)
        outcome = Outcome(
            kind=kind,
            open_case=True,
            team="dsl",
            urgent=True,
            guidance=[],
            summary={"unfinished": "yes"},
            details={
                **answers,
                **({engine.OPENING: opening_words} if opening_words else {}),
                "unfinished_since": row.updated_at.isoformat(timespec="seconds"),
            },
            flags=["unfinished", "urgent"],
        )
        reporter = Actor(row.platform, row.user_id, frozenset(), state.get(REPORTER_NAME))
        case = opening.open_case(kernel, session, reporter, outcome)
        since = kernel.local_time(row.updated_at)
        repo.audit(session, kernel.now(), "system", "case.unfinished", case.ref, since=since)
        return case.ref


def _kind_for(kernel: Kernel, conversation: Conversation) -> CaseKind:
    for kind in kernel.registry.case_kinds.values():
        if kind.dialog == conversation.name:
            return kind
    raise LookupError(f"no case kind for {conversation.name}")
