"""What the platforms record about requests: ids seen (to spot a platform's retry), the
terminal chat's inbox, replies queued for the outbox when a direct reply failed, and the
weekly clean-up of both."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.messages import Message
from bot.kernel.core import Kernel
from bot.kernel.work import db_guard
from bot.storage import intake as intake_rows
from bot.storage import outbox as outbox_rows
from bot.storage import repository as repo

log = logging.getLogger(__name__)


class IntakeRecords:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        # How long an intake record may go unrenewed before another instance runs it again.
        self.lease = timedelta(seconds=120)

    @db_guard(lambda: True)  # if the database is down, handle it and let that say so
    def first_request(self, key: str) -> bool:
        with self.kernel.session() as session:
            fresh = repo.first_request(session, key, self.kernel.now())
            session.commit()
            return fresh

    @db_guard(lambda: [])
    def recent_request_ids(self, seconds: float) -> list[str]:
        """Inbound ids recorded in the last `seconds` (a restarted replay check reads them)."""
        with self.kernel.session() as session:
            since = self.kernel.now() - timedelta(seconds=seconds)
            return repo.request_ids_since(session, since)

    @db_guard(lambda: [])
    def inbox(self, platform: str, user_id: str) -> list[Message]:
        """Terminal chat: team alerts and DMs this person has not seen yet."""
        with self.kernel.session() as session:
            teams = self.kernel.reader_teams(session, platform, user_id)
            rows = outbox_rows.inbox_since(session, platform, user_id, teams)
            if rows:
                outbox_rows.move_inbox_cursor(session, platform, user_id, rows[-1].id or 0)
            session.commit()
            return [Message.from_dict(r.message) for r in outbox_rows.newest_copies(rows)]

    @db_guard(lambda: None)
    def queue_replies(
        self, platform: str, user_id: str, messages: list[Message], request: int | None = None
    ) -> None:
        """Replies an adapter could not send directly; its outbox loop retries them. The
        intake record they answer is finished in the same transaction: from here the
        outbox owns them, and a rerun after a crash must not send them as well."""
        with self.kernel.session() as session:
            for message in messages:
                self.kernel.outbox.tell_user(session, platform, user_id, message)
            if request is not None:
                intake_rows.finish(session, [request])
            session.commit()

    @db_guard(lambda: 0)
    def forget_old_requests(self, keep: timedelta = timedelta(days=7)) -> int:
        """Platforms retry within minutes; a week of ids is plenty to spot a repeat, and
        the table no longer grows with every message for ever. Requests accepted a week
        ago and never run can't be run now (their platform is off): say so, and drop them."""
        now = self.kernel.now()
        with self.kernel.session() as session:
            forgotten = repo.forget_request_ids(session, now - keep)
            if stranded := intake_rows.forget(session, now - keep):
                log.error(
                    "%d chat requests accepted over a week ago were never handled (is their "
                    "platform still configured?); removed",
                    stranded,
                )
            session.commit()
            return forgotten
