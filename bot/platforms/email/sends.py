"""Sending queued escalation emails: the shared SendLoop, with the mail server as the
platform. A failed send stays in the outbox and is retried with backoff like any chat
message; it runs in its own loop, so a slow mail server never holds up a chat reply.

Just before sending, each email is checked again: the person must still have an address
(their role kept, not erased) and the case must still be waiting, so an email delayed by
a mail-server outage never says "not yet acknowledged" about a case someone has picked up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.domain.cases import CaseStatus
from bot.kernel.core import Kernel
from bot.kernel.outbox import ALL_CASES, OPEN_WEB, PendingSend
from bot.observability import metrics
from bot.platforms.email.compose import compose
from bot.platforms.email.server import MailProblem, MailServer
from bot.platforms.send_loop import SendLoop
from bot.storage import repository as repo
from bot.storage.tables import Case

log = logging.getLogger(__name__)
# An email may be read hours later (after a lesson, or the next morning for a routine
# case), so its sign-in link lasts longer than a chat one; it still works only once.
LINK_LIFETIME = timedelta(hours=24)


class EmailSendLoop(SendLoop):
    platform = "email"

    def __init__(
        self,
        kernel: Kernel,
        server: MailServer,
        clock: Callable[[], datetime] | None = None,
        poll_seconds: float = 2.0,
    ):
        super().__init__(kernel, clock, poll_seconds)
        self.server = server

    async def send(self, item: PendingSend) -> None:
        prepared = await self.kernel.work.run(self._prepare, item)
        if isinstance(prepared, str):
            await self._skip(item, prepared)
            return
        address, link = prepared
        email = compose(
            item.message,
            self.server.settings.sender,
            address,
            link,
            link_hours=int(LINK_LIFETIME.total_seconds() // 3600),
            about_a_case=item.case_id is not None,
        )
        try:
            await self.server.send(email)
        except MailProblem as problem:
            log.warning("email: outbox %s not sent: %s", item.outbox_id, problem)
            if problem.permanent:
                await self.give_up(item, str(problem))
            else:
                await self.retry(item, str(problem))
            return
        await self.sent(item, None)

    def _prepare(self, item: PendingSend) -> tuple[str, str | None] | str:
        """(address, sign-in link), or why this email is no longer to be sent."""
        platform, _, user_id = item.target.partition(":")
        kernel = self.kernel
        with kernel.session() as session:
            address = repo.email_of(session, platform, user_id)
            if not address:
                return "no address now (their role was removed, or they were erased)"
            case = session.get(Case, item.case_id) if item.case_id else None
            if case is not None and case.status != CaseStatus.NEW.value:
                return "the case was acknowledged meanwhile"
            web = kernel.outbox.web
            opens = next((b.value for b in item.message.buttons if b.action == OPEN_WEB), None)
            if web is None or opens is None:
                return address, None
            path = "/web/" if opens == ALL_CASES else f"/web/cases/{opens}"
            link = web.add_link(
                session, platform, user_id, None, path, lifetime=LINK_LIFETIME, confirm=True
            )
            session.commit()
            return address, link

    async def _skip(self, item: PendingSend, why: str) -> None:
        log.info("email: outbox %s not sent: %s", item.outbox_id, why)
        metrics.send_result(self.platform, "skipped")
        await self.kernel.work.run(self.kernel.outbox.mark_sent, item.outbox_id, f"skipped: {why}")
