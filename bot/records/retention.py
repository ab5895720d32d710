"""The retention sweep: disposes of records whose retention period has ended (X-RECORD).

Once a school day, in whichever instance claims the day first (bot/scheduler.py,
bot/dispatch/daily_jobs.py); another instance finishes a sweep whose instance died, so
each step here is safe to run again. Each record is disposed of in its own short
transaction that first claims it: PostgreSQL locks the row with SKIP LOCKED, so two
instances never work on the same record, and a compare-and-set on `disposed_at` (both
databases) makes sure it is disposed of once, with one line in the disposal log.

A disposed case keeps a tombstone (reference, kind, dates, outcome category, the rule);
its answers, outcome text, names and evidence are gone, and its audit rows keep who did
what and when without the free text. Its copies go with it (bot/records/copies.py):
outbox messages, the bot's own posts on Slack and Teams, web links, requests not yet
run, and a conversation that joined it. Evidence files are deleted from disk after the
commit, and only when nothing still uses the same file (the store keeps one copy per
SHA-256; see bot/records/evidence_files.py). On SQLite the write-ahead log is then
emptied, so no old page still holds what was removed. A case on legal hold is never
disposed of.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import col, select

from bot.domain import retention as rules
from bot.domain import retention_classes as classes
from bot.features.cases import retention
from bot.observability import metrics
from bot.records import copies, review
from bot.records.evidence_files import delete_unused
from bot.storage import db
from bot.storage.repository import rowcount
from bot.storage.scoping import SchoolSession
from bot.storage.tables import (
    Approval,
    ApprovalDecision,
    AuditEvent,
    Case,
    Comment,
    DialogState,
    Disposal,
    Evidence,
    OfficialAccount,
)

if TYPE_CHECKING:
    from bot.kernel.core import Kernel

log = logging.getLogger(__name__)
SWEEP = "retention sweep"


@dataclass(frozen=True)
class Due:
    """One record whose retention period ends by `due_on` (kept when `held`)."""

    record_type: str  # "case", "register entry", "comment", "conversation"
    record: str  # reference: CB-0001, account 3, CM-0004, or the conversation's name
    rule: str  # its retention class (or "register-entry")
    due_on: date
    row: tuple[str, ...]  # how to find it again (ids; never shown)
    held: bool = False
    review: bool = False  # a person decides; never disposed of automatically
    owner: str | None = None  # the owning team of a case (who reviews a safeguarding one)
    decision: retention.Decision | None = None  # the latest person's review
    kind: str = ""  # what it is, in words ("Friend or follow request")

    @property
    def approved(self) -> bool:
        return self.decision is not None and self.decision.action == retention.DISPOSE


def outcome_category(case: Case, approval: Approval | None) -> str:
    """What the tombstone keeps of the outcome: a category, never the team's words."""
    if approval is not None:  # only account requests wait for an approval
        return {"approved": "Approved", "rejected": "Not approved"}.get(
            approval.status, "Closed without a decision"
        )
    return "Closed by the team"


class RetentionSweep:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.pack = kernel.pack

    def today(self) -> date:
        return self.kernel.local_now().date()

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(self.kernel.clock.zone).date()

    # --- what is due ---------------------------------------------------------------------

    def due(self, *, include_held: bool = False, within_days: int = 0) -> list[Due]:
        """Every record whose period ends within `within_days` (today: 0), oldest first."""
        today = self.today() + timedelta(days=within_days)
        found: list[Due] = []
        with self.kernel.session() as session:
            force = retention.in_force(session)
            decided = retention.decisions(session)
            accounts: dict[int | None, OfficialAccount] = {
                a.case_id: a
                for a in session.exec(
                    select(OfficialAccount).where(
                        col(OfficialAccount.school_id) == session.school_id
                    )
                )
                if a.case_id
            }
            for case in session.exec(
                select(Case).where(
                    col(Case.school_id) == session.school_id,
                    col(Case.disposed_at).is_(None),
                    col(Case.closed_at).isnot(None),
                )
            ):
                item = self._case_due(case, accounts.get(case.id), force, decided.get(case.ref))
                if item and item.due_on <= today and (include_held or not item.held):
                    found.append(item)
            for account in session.exec(
                select(OfficialAccount).where(
                    col(OfficialAccount.school_id) == session.school_id,
                    col(OfficialAccount.disposed_at).is_(None),
                    col(OfficialAccount.closed_on).isnot(None),
                )
            ):
                assert account.closed_on is not None
                on = rules.account_due(self.pack, self._day(account.closed_on), force)
                if on <= today:
                    row: tuple[str, ...] = ("account", str(account.id))
                    found.append(
                        Due(
                            "register entry",
                            f"account {account.id}",
                            rules.REGISTER_ENTRY,
                            on,
                            row,
                            kind="Register entry",
                        )
                    )
            for comment in session.exec(
                select(Comment).where(
                    col(Comment.school_id) == session.school_id,
                    col(Comment.disposed_at).is_(None),
                    col(Comment.closed_at).isnot(None),
                )
            ):
                plan = retention.comment_due(self.kernel, comment, force, decided.get(comment.ref))
                if plan.due_on <= today:
                    found.append(
                        Due(
                            "comment",
                            comment.ref,
                            plan.cls,
                            plan.due_on,
                            ("comment", str(comment.id)),
                            review=plan.review,
                            decision=decided.get(comment.ref),
                            kind="Complaint" if comment.complaint else "Comment",
                        )
                    )
            for state in session.exec(
                select(DialogState).where(col(DialogState.school_id) == session.school_id)
            ):
                on = rules.conversation_due(self.pack, self._day(state.updated_at), force)
                if on <= today:
                    row = ("dialog", state.platform, state.user_id, state.updated_at.isoformat())
                    name = state.dialog.replace("_", " ")
                    found.append(
                        Due("conversation", f"unfinished {name}", classes.CONVERSATION, on, row)
                    )
        return sorted(found, key=lambda d: (d.due_on, d.record))

    def _case_due(
        self,
        case: Case,
        account: OfficialAccount | None,
        force: dict[str, int],
        decision: retention.Decision | None,
    ) -> Due | None:
        plan = retention.case_due(self.kernel, case, account, force, decision)
        if plan is None:
            return None
        return Due(
            "case",
            case.ref,
            plan.cls,
            plan.due_on,
            ("case", str(case.id)),
            held=case.held_at is not None,
            review=plan.review,
            owner=case.team,
            decision=decision,
            kind=self.kernel.registry.case_kind(case.kind).title,
        )

    # --- disposing -----------------------------------------------------------------------

    def sweep(self) -> int:
        """List what is coming up for review, then dispose of what is due and may go.
        Returns how many records this instance disposed of."""
        done = 0
        disposed: collections.Counter[str] = collections.Counter()
        review.record_schedule(self.kernel)
        notice = self.pack.records.retention.review_notice_days
        review.send(self.kernel, self.due(within_days=notice))
        sent = review.first_notices(self.kernel)
        for item in self.due():
            if not self.may_go(item, sent):
                continue
            try:
                n = self._dispose(item, sent)
            except sa.exc.SQLAlchemyError as exc:
                log.error("retention: couldn't dispose of one record: %s", type(exc).__name__)
                continue
            done += n
            disposed[item.record_type] += n
        metrics.retention_swept(disposed, ok=True)
        if done:
            log.info("retention sweep disposed of %s record(s)", done)
            if not db.checkpoint(self.kernel.work.engine):
                log.warning("retention: the database log is in use; it is emptied next time")
        return done

    def dispose_approved(self, record: str) -> bool:
        """Dispose of one record now that a person has approved it (the command line)."""
        sent = review.first_notices(self.kernel)
        for item in self.due():
            if item.record == record and item.approved and self.may_go(item, sent):
                return self._dispose(item, sent) == 1
        return False

    def may_go(self, item: Due, sent: dict[str, date]) -> bool:
        return review.may_go(self.kernel, item, sent)

    def _dispose(self, item: Due, sent: dict[str, date] | None = None) -> int:
        now = self.kernel.now()
        files: list[str] = []
        with self.kernel.session() as session:
            kind = item.row[0]
            if kind == "case":
                ok, files, redacted = self._dispose_case(session, int(item.row[1]), item, now)
            elif kind == "account":
                ok, redacted = self._dispose_account(session, int(item.row[1]), item, now)
            elif kind == "comment":
                ok, redacted = self._dispose_comment(session, int(item.row[1]), item, now)
            else:
                ok, files = self._dispose_dialog(session, item)
                redacted = 0
            if not ok:
                session.rollback()
                return 0
            method, authoriser = review.authorised(item, sent or {})
            entry = Disposal(
                at=now,
                record_type=item.record_type,
                record=item.record[:50],
                rule=item.rule,
                rule_words=rules.rule(self.pack, item.rule).words[:200],
                due_on=item.due_on,
                by=SWEEP,
                files_deleted=0,
                audit_rows_redacted=redacted,
                method=method,
                authorised_by=authoriser,
            )
            session.add(entry)
            session.commit()
            entry_id = entry.id
        deleted = self._delete_files(files)
        if deleted:  # the one change the append-only log allows (migration 0012)
            with self.kernel.session() as session:
                session.execute(
                    sa.update(Disposal)
                    .where(
                        col(Disposal.school_id) == session.school_id, col(Disposal.id) == entry_id
                    )
                    .values(files_deleted=deleted)
                )
                session.commit()
        return 1

    def _claim(
        self, session: SchoolSession, table: type, row_id: int, *extra: sa.ColumnElement[bool]
    ) -> bool:
        """Ours to dispose of: locked (PostgreSQL, skipping one another instance holds) and
        marked disposed by a compare-and-set, so exactly one instance disposes of it."""
        id_col = table.id  # type: ignore[attr-defined]
        disposed = table.disposed_at  # type: ignore[attr-defined]
        if session.get_bind().dialect.name == "postgresql":
            query = select(id_col).where(id_col == row_id, disposed.is_(None), *extra)
            if session.exec(query.with_for_update(skip_locked=True)).first() is None:
                return False
        result = session.execute(
            sa.update(table)
            .where(id_col == row_id, disposed.is_(None), *extra)
            .values(disposed_at=self.kernel.now())
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    def _tombstone(self, item: Due, now: datetime) -> str:
        rule = rules.rule(self.pack, item.rule)
        on = now.astimezone(self.kernel.clock.zone).strftime("%-d %B %Y")
        return f"Disposed of on {on} under the rule '{rule.words}'."

    def _dispose_case(
        self, session: SchoolSession, case_id: int, item: Due, now: datetime
    ) -> tuple[bool, list[str], int]:
        if not self._claim(session, Case, case_id, col(Case.held_at).is_(None)):
            return False, [], 0
        case = session.get(Case, case_id)
        assert case is not None
        session.refresh(case)
        approval = session.exec(
            select(Approval).where(
                col(Approval.school_id) == session.school_id, Approval.case_id == case_id
            )
        ).first()
        category = outcome_category(case, approval)
        old_details = case.details
        case.details = {
            "tombstone": {
                "ref": case.ref,
                "kind": case.kind,
                "opened_on": self._day(case.created_at).isoformat(),
                "closed_on": self._day(case.closed_at or now).isoformat(),
                "outcome": category,
                "rule": item.rule,
                "disposed": self._tombstone(item, now),
            }
        }
        case.summary, case.flags, case.outcome = {}, [], category
        case.reporter_id, case.reporter_name, case.assignee_id = "", None, None
        case.child_born_on = None
        session.add(case)
        files = [
            e.sha256
            for e in session.exec(
                select(Evidence).where(
                    col(Evidence.school_id) == session.school_id, Evidence.case_id == case_id
                )
            )
        ]
        files += copies.files_in(old_details)  # an unfinished report's files, by name only
        session.execute(
            sa.delete(Evidence).where(
                col(Evidence.school_id) == session.school_id, col(Evidence.case_id) == case_id
            )
        )
        if approval is not None:
            session.execute(
                sa.update(ApprovalDecision)
                .where(
                    col(ApprovalDecision.school_id) == session.school_id,
                    col(ApprovalDecision.approval_id) == approval.id,
                )
                .values(reason=None)
            )
        copies.scrub_outbox(session, case.ref, case_id, now)
        copies.scrub_links_and_requests(session, case.ref)
        files += copies.drop_joined_conversations(session, case.ref)
        redacted = self._redact(session, [case.ref], item, now)
        return True, files, redacted

    def _dispose_account(
        self, session: SchoolSession, account_id: int, item: Due, now: datetime
    ) -> tuple[bool, int]:
        if not self._claim(session, OfficialAccount, account_id):
            return False, 0
        session.execute(
            sa.update(OfficialAccount)
            .where(
                col(OfficialAccount.school_id) == session.school_id,
                col(OfficialAccount.id) == account_id,
            )
            .values(
                name=f"Account {account_id} (disposed of)",
                purpose=self._tombstone(item, now),
                author="",
                moderators=[],
                contacts=[],
            )
        )
        return True, self._redact(session, [f"account:{account_id}"], item, now)

    def _dispose_comment(
        self, session: SchoolSession, comment_id: int, item: Due, now: datetime
    ) -> tuple[bool, int]:
        if not self._claim(session, Comment, comment_id):
            return False, 0
        session.execute(
            sa.update(Comment)
            .where(col(Comment.school_id) == session.school_id, col(Comment.id) == comment_id)
            .values(text=self._tombstone(item, now), link=None, logged_by="", closed_by=None)
        )
        copies.scrub_outbox(session, item.record, None, now)
        copies.scrub_links_and_requests(session, item.record)
        return True, self._redact(session, [item.record], item, now)

    def _dispose_dialog(self, session: SchoolSession, item: Due) -> tuple[bool, list[str]]:
        """An unfinished conversation is deleted (compare-and-set on its last turn), and
        with it the files it held that nothing else uses."""
        _, platform, user_id, updated = item.row
        row = session.get(DialogState, (session.school_id, platform, user_id))
        files = copies.files_in(row.state) if row is not None else []
        result = session.execute(
            sa.delete(DialogState).where(
                col(DialogState.school_id) == session.school_id,
                col(DialogState.platform) == platform,
                col(DialogState.user_id) == user_id,
                col(DialogState.updated_at) == datetime.fromisoformat(updated),
            )
        )
        return rowcount(result) == 1, files

    def _redact(self, session: SchoolSession, subjects: list[str], item: Due, now: datetime) -> int:
        """Take the free text out of these subjects' audit rows; rows without any stay."""
        count = 0
        words = f"disposed of under rule {item.rule}"
        for event in session.exec(
            select(AuditEvent).where(
                col(AuditEvent.school_id) == session.school_id,
                col(AuditEvent.subject).in_(subjects),
            )
        ):
            if event.redacted_at is not None or not set(event.detail) & set(rules.FREE_TEXT_KEYS):
                continue
            session.execute(
                sa.update(AuditEvent)
                .where(
                    col(AuditEvent.school_id) == session.school_id, col(AuditEvent.id) == event.id
                )
                .values(detail=rules.redacted(event.detail), redacted_at=now, redaction=words)
                .execution_options(synchronize_session=False)
            )
            count += 1
        return count

    def _delete_files(self, hashes: list[str]) -> int:
        """Delete each file nothing else still uses (the store keeps one copy per hash)."""
        return len(delete_unused(self.kernel, hashes, self.kernel.now()))
