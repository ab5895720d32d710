"""The scheduler's sweep: due reminders become outbox messages, once.

Every instance runs the sweep on a timer (APScheduler). One sweep is one transaction:
claim due reminders (SKIP LOCKED / compare-and-set), hand each to the feature that
registered its kind, mark them done, commit. A crash anywhere before the commit rolls it
all back and the next sweep, here or in another instance, takes the same reminders again.

After downtime the overdue reminders of one subject are folded into one message showing
its current state (a comment both past its nudge and its deadline gets one "overdue"
message, not two), and anything already dealt with is closed without a message.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from bot.kernel.core import Kernel
from bot.kernel.registry import ReminderKind
from bot.storage import outbox as outbox_rows
from bot.storage import scheduling
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Reminder

log = logging.getLogger(__name__)


class ReminderSweep:
    """`batch` bounds one sweep (one short transaction); the scheduler runs sweeps back to
    back while they come back full, so a backlog drains without long locks."""

    def __init__(self, kernel: Kernel, batch: int = 25):
        self.kernel = kernel
        self.batch = batch

    def sweep(self) -> int:
        """One tick. Returns how many reminders it finished."""
        kinds = self.kernel.registry.reminders
        with self.kernel.session() as session:
            now = self.kernel.now()
            claimed = scheduling.claim_due_reminders(session, now, self.batch)
            for preload in {k.preload for k in kinds.values() if k.preload is not None}:
                preload(
                    session, [r for r in claimed if kinds.get(r.kind, _NONE).preload is preload]
                )
            done: list[tuple[int, str]] = []
            with outbox_rows.outbox_batch(session):
                for reminders in _by_subject(kinds, claimed).values():
                    *earlier, latest = sorted(
                        reminders, key=lambda r: (kinds.get(r.kind, _NONE).stage, r.due_at)
                    )
                    done += [(r.id or 0, "folded into a later one") for r in earlier]
                    done.append((latest.id or 0, self._handle(kinds, session, latest)))
            scheduling.finish_reminders(session, done, now)
            session.commit()
        if claimed:
            log.info("sweep finished %s reminder(s)", len(claimed))
        return len(claimed)

    def _handle(
        self, kinds: dict[str, ReminderKind], session: SchoolSession, reminder: Reminder
    ) -> str:
        return kinds.get(reminder.kind, _NONE).handle(self.kernel, session, reminder)


def _unknown(kernel: Kernel, session: SchoolSession, reminder: Reminder) -> str:
    """A kind no feature registers (a feature removed since): closed, and logged."""
    log.error("unknown reminder kind %s (id %s)", reminder.kind, reminder.id)
    return "unknown kind"


_NONE = ReminderKind("", _unknown)


def _by_subject(
    kinds: dict[str, ReminderKind], reminders: list[Reminder]
) -> dict[str, list[Reminder]]:
    groups: dict[str, list[Reminder]] = defaultdict(list)
    for r in reminders:
        kind = kinds.get(r.kind, _NONE)
        groups[kind.subject(r)].append(r)
    return groups
