"""The kernel every feature is handed: policy pack, unit of work, clock, outbox,
evidence store and registry. It imports no feature and knows no platform."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from bot.dialogs import engine
from bot.domain.cases import Actor, teams_of
from bot.domain.deadlines import WorkingCalendar
from bot.domain.evidence import EvidenceFile, check_evidence
from bot.domain.policy import PolicyPack
from bot.kernel.clock import Clock, utcnow
from bot.kernel.evidence_store import EvidenceStore
from bot.kernel.outbox import Outbox
from bot.kernel.registry import Registry
from bot.kernel.work import UnitOfWork
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession

NO_FILES_HERE = (
    "I can't take files in this conversation, so I haven't kept that one. Please describe "
    "it in words instead."
)


class Kernel:
    def __init__(
        self,
        work: UnitOfWork,
        pack: PolicyPack,
        registry: Registry,
        evidence: EvidenceStore,
        clock: Callable[[], datetime] = utcnow,
        *,
        max_evidence_bytes: int = 25 * 1024 * 1024,
        platform_titles: Mapping[str, str] | None = None,
    ):
        self.work = work
        self.pack = pack
        self.registry = registry
        self.evidence = evidence
        self.clock = Clock(pack.calendar.timezone, clock)
        self.outbox = Outbox(work, self.clock, uuid.uuid4().hex)
        self.max_evidence_bytes = max_evidence_bytes
        self.calendar = WorkingCalendar(pack)
        # Every platform this build has (bot.platforms), name -> title: the names check ids
        # like slack:U123, the titles say where a person is ("Teams user 29:1a").
        self.platform_titles: Mapping[str, str] = platform_titles or {"console": "Terminal"}
        self.platform_names = tuple(self.platform_titles)

    # --- short names for what every feature uses ----------------------------------------------

    def session(self) -> AbstractContextManager[SchoolSession]:
        """A transaction for this kernel's school (every query in it is that school's)."""
        return self.work.session()

    @property
    def school_id(self) -> int:
        return self.work.school_id

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self) -> datetime:
        return self.clock.local_now()

    def local_time(self, moment: datetime) -> str:
        return self.clock.local_time(moment)

    @property
    def platforms(self) -> tuple[str, ...]:
        return self.outbox.platforms

    # --- actors -------------------------------------------------------------------------------

    def actor(
        self, session: SchoolSession, platform: str, user_id: str, name: str | None = None
    ) -> Actor:
        """Someone acting, with the roles stored for them now (never what a platform says)."""
        return Actor(platform, user_id, repo.roles_of(session, platform, user_id), name)

    def reader_teams(self, session: SchoolSession, platform: str, user_id: str) -> set[str]:
        """The teams whose alerts this person reads (approvers read SLT's)."""
        actor = self.actor(session, platform, user_id)
        teams = teams_of(self.pack, actor)
        if actor.roles & set(self.pack.accounts.stages):
            teams.add("slt")
        return teams

    def upload_refusal(self, platform: str, user_id: str) -> str | None:
        """Why this person's files may not be kept now (a report of a nude image of a child,
        SG-NUDES), asked before a platform downloads a byte of them; None when they may."""
        with self.session() as session:
            row = repo.get_dialog(session, platform, user_id)
            conversation = self.registry.conversations.get(row.dialog) if row else None
            if row is None or conversation is None:
                return None
            if not any(step.kind == "files" for step in conversation.dialog.steps):
                return NO_FILES_HERE  # nowhere to keep it: refused, not stored unseen
            refusal = engine.file_refusal(
                conversation.dialog, row.state, self.pack, self.local_now()
            )
            if refusal:
                self._note_refused_upload(session, platform, user_id, row.state)
            return refusal

    def _note_refused_upload(
        self, session: SchoolSession, platform: str, user_id: str, state: dict[str, Any]
    ) -> None:
        """The DSL must learn the reporter may hold a copy (SG-NUDES): the case's chronology
        says a file was refused, now if its case is open, or else when it opens. No name or
        hash: nothing of the file is read."""
        key = f"{platform}:{user_id}"
        if ref := state.get(engine.CASE):
            if not any(
                e.action == engine.UPLOAD_REFUSED_EVENT for e in repo.timeline(session, ref)
            ):
                repo.audit(session, self.now(), key, engine.UPLOAD_REFUSED_EVENT, ref)
                session.commit()
            return
        if state.get(engine.UPLOAD_REFUSED):
            return
        try:
            repo.save_dialog(
                session, platform, user_id, {**state, engine.UPLOAD_REFUSED: True}, self.now()
            )
            session.commit()
        except repo.TurnConflict:  # a turn got there first: the next refusal notes it
            session.rollback()

    def store_evidence(self, filename: str, content_type: str | None, data: bytes) -> EvidenceFile:
        """Check and keep a file's bytes; raises EvidenceRefused with a message for the user."""
        checked = check_evidence(filename, content_type, data, self.max_evidence_bytes)
        self.evidence.put(checked.sha256, data, at=self.now())
        return checked
