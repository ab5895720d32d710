"""A trust: one `BotService` per school in the `school` table, all on one database.

Each door (a Slack workspace, a Teams team, a web session) finds its school and asks
`service_for(school_id)`; the scheduler and the send loops go round `services`. A school
added with `schoolbot schools add` while the bot runs is picked up by `refresh()`, which
the scheduler calls at each tick and a door calls when it meets a school it does not know
yet. A trust of one (an install from before schools) is just school 1's service.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.dispatch.service import BotService
from bot.storage.schools import list_schools

log = logging.getLogger(__name__)

# Builds the service of one school (its pack, calendar, unit of work) on the trust's engine.
SchoolBuilder = Callable[[int], BotService]


class UnknownSchool(LookupError):
    """No school with that number in the `school` table."""


class Trust:
    def __init__(self, services: list[BotService], build: SchoolBuilder | None = None):
        assert services, "a trust has at least one school"
        self._services = {s.work.school_id: s for s in services}
        self._build = build
        self._lock = threading.Lock()
        # Called with each school's service once it is added while running (the send loops
        # start one for it; the scheduler prepares its schedules).
        self.added_hooks: list[Callable[[BotService], None]] = []

    @classmethod
    def of(cls, *services: BotService) -> Trust:
        """A trust of these services only (tests, and a service built by hand)."""
        return cls(list(services))

    @property
    def first(self) -> BotService:
        """The lowest-numbered school: a trust of one's only school, and where a door with
        no way to tell (single-token Slack, a personal chat with no role) sends requests."""
        return self._services[min(self._services)]

    @property
    def services(self) -> list[BotService]:
        return [self._services[key] for key in sorted(self._services)]

    @property
    def engine(self) -> Engine:
        return self.first.engine

    def service_for(self, school_id: int | None) -> BotService:
        """That school's service (the first school's for None); a school added since the
        last refresh is built now. UnknownSchool if the table has no such school."""
        if school_id is None:
            return self.first
        service = self._services.get(school_id)
        if service is None and self._build is not None:
            self.refresh()
            service = self._services.get(school_id)
        if service is None:
            raise UnknownSchool(school_id)
        return service

    def known(self, school_id: int | None) -> BotService | None:
        """That school's service if this process serves it already (never a database read:
        for a door where anyone can name a number, such as a web token)."""
        return self.first if school_id is None else self._services.get(school_id)

    def refresh(self) -> list[BotService]:
        """Build a service for each school added to the table since the last look; the new
        ones, after their hooks have run. A school that can't be built (a broken pack file)
        is logged and tried again next time; the others carry on."""
        if self._build is None:
            return []
        with Session(self.engine) as session:
            ids = [school.id for school in list_schools(session)]
        added: list[BotService] = []
        with self._lock:
            for school_id in ids:
                if school_id in self._services:
                    continue
                try:
                    service = self._build(school_id)
                except Exception as exc:  # one school's bad pack must not stop the others
                    log.error("school %s can't be started yet: %s", school_id, exc)
                    continue
                self._services[school_id] = service
                added.append(service)
                log.warning("school %s added while running: now served", school_id)
        for service in added:
            for hook in self.added_hooks:
                hook(service)
        return added
