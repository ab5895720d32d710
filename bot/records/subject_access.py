"""Subject access requests (UK GDPR Article 15): what the bot holds about one member of staff.

`build` gathers their reports and the reports others made about them (records/
subject_access_cases.py), the messages the bot sent them, their conversation in progress,
roles, the actions they took and the audit entries about them, the comments they logged,
the accounts they are a contact for, the evidence files they supplied, and the Article 15
information from the pack (bot.domain.privacy). Their own outcomes and the messages to them
are given in full. Other people's names and ids the bot knows are replaced by REDACTED;
free text, which may name people the bot can't know, is held for the DPO in a separate
"review before release" file (records/subject_access_review.py), and safeguarding records
about a child are withheld there with the exemption named. Files are written 0600.

Leavers are in records/leavers.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import col, select

from bot.kernel.evidence_store import EvidenceStore
from bot.kernel.registry import Registry
from bot.records import subject_access_cases as cases
from bot.records.subject_access_review import Review, answer_keys, split_answers
from bot.storage.scoping import SchoolSession
from bot.storage.tables import (
    ApprovalDecision,
    AuditEvent,
    Case,
    Comment,
    ConversationRef,
    DialogState,
    InboxCursor,
    OfficialAccount,
    PolicyRead,
    RoleAssignment,
    WebSession,
    WebSignIn,
)

REDACTED = "[redacted: another person]"
FORMER = "former member of staff"
# Audit detail fields that never hold personal data.
SAFE_DETAIL = {
    "team",
    "urgent",
    "clauses",
    "role",
    "role_label",
    "stage",
    "dialog",
    "account",
    "author_type",
    "kind",
    "status",
    "rule",
    "tasks_closed",
    "tasks_reopened",
}
# Audit detail fields naming a person: theirs when it is them, redacted otherwise.
PEOPLE_DETAIL = {"by"}
# What the reporter of a case may read in full: its outcome and the message to them.
TO_THE_REPORTER = {"outcome", "to_reporter"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass
class Person:
    platform: str
    user_id: str
    names: set[str] = field(default_factory=set)
    # Every platform's name (bot.platforms): an audit subject "slack:U1" is a person, while
    # "account:3" or "team:dsl" is not.
    platforms: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"

    def own(self, value: Any) -> Any:
        """The value if it is this person's id or name; otherwise REDACTED."""
        if value is None:
            return None
        return value if value in (self.key, self.user_id) or value in self.names else REDACTED


def names_of(session: SchoolSession, person: Person) -> set[str]:
    names: set[str] = set()
    for case in session.exec(
        select(Case).where(col(Case.school_id) == session.school_id, *reported_by(person))
    ):
        if case.reporter_name:
            names.add(case.reporter_name)
    # select() of either model is typed as a plain SQLModel: the casts say which it is.
    model: type[WebSession] | type[WebSignIn]
    for model in (WebSession, WebSignIn):
        for row in cast(
            "Iterable[WebSession | WebSignIn]",
            session.exec(
                select(model).where(
                    model.platform == person.platform, model.user_id == person.user_id
                )
            ),
        ):
            if row.name:
                names.add(row.name)
    for event in session.exec(
        select(AuditEvent).where(
            col(AuditEvent.school_id) == session.school_id, AuditEvent.actor == person.key
        )
    ):
        by = event.detail.get("by")
        if isinstance(by, str) and by:
            names.add(by)
    return names


def reported_by(person: Person) -> list[Any]:
    return [col(Case.platform) == person.platform, col(Case.reporter_id) == person.user_id]


def _event(
    event: AuditEvent, person: Person, review: Review, found: cases.Found, own: set[str]
) -> dict[str, Any]:
    """An audit entry: safe fields kept, people redacted, free words held for review (or
    withheld, on a record about a child); the outcome and message on their own report kept."""
    mine = event.actor == person.key
    detail: dict[str, Any] = {}
    for key, value in event.detail.items():
        if key in SAFE_DETAIL or value is None:
            detail[key] = value
        elif key in PEOPLE_DETAIL:
            detail[key] = value if mine else REDACTED
        elif event.subject in found.child:
            detail[key] = cases.CHILD_MARKER
        elif key in TO_THE_REPORTER and event.subject in own:
            detail[key] = value
        else:
            where = f"{event.subject}, '{key}' in the record of {event.action}"
            detail[key] = review.hold(where, cases.YOU if mine else "another person", value)
    return {
        "at": _iso(event.at),
        "action": event.action,
        "by": person.own(event.actor) if event.actor != "system" else "system",
        "about": REDACTED
        if _is_person(event.subject, person.platforms) and event.subject != person.key
        else event.subject,
        "detail": detail,
    }


def _is_person(subject: str, platforms: tuple[str, ...]) -> bool:
    platform, colon, user_id = subject.partition(":")
    return bool(colon and user_id) and platform in platforms


def _mentions(event: AuditEvent, person: Person) -> bool:
    if event.subject == person.key or event.actor == person.key:
        return True
    text = json.dumps(event.detail, ensure_ascii=False)
    return any(_word(n).search(text) for n in {person.user_id, person.key, *person.names})


def _word(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")


@dataclass
class Export:
    """What `gather` found: the export's data and files, and what the DPO reviews first."""

    data: dict[str, Any]
    review: Review
    files: list[tuple[str, bytes]]


def _answers_so_far(dialog: DialogState) -> dict[str, Any]:
    """The answers given so far, with the first message they sent (their own words)."""
    opening = (dialog.state.get("options") or {}).get("opening")
    return {**(dialog.state.get("answers") or {}), **({"opening": opening} if opening else {})}


def gather(
    session: SchoolSession,
    platform: str,
    user_id: str,
    platforms: tuple[str, ...],
    registry: Registry,
    *,
    also_known_as: Sequence[str] = (),
    store: EvidenceStore | None = None,
) -> Export:
    """Everything the bot holds about this person (JSON-ready), the files they supplied,
    and what is held back for the DPO. `also_known_as`: names the DPO knows them by."""
    person = Person(platform, user_id, platforms=platforms)
    person.names = names_of(session, person) | {n.strip() for n in also_known_as if n.strip()}
    review = Review()
    found = cases.find(session, person, registry)
    own = {c.ref for c in found.own if not cases.about_a_child(c)}
    events = [
        e
        for e in session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.school_id) == session.school_id)
            .order_by(col(AuditEvent.id))
        )
        if e.subject not in found.hidden
    ]
    about_refs = {c.ref for c, _ in found.about} | {c.ref for c in found.own}
    src = cases.Sources(session, person, registry, events, review, store)
    dialog = session.get(DialogState, (session.school_id, platform, user_id))
    roles = session.exec(
        select(RoleAssignment).where(
            col(RoleAssignment.school_id) == session.school_id,
            RoleAssignment.platform == platform,
            RoleAssignment.user_id == user_id,
        )
    ).all()
    decisions = session.exec(
        select(ApprovalDecision).where(
            col(ApprovalDecision.school_id) == session.school_id,
            ApprovalDecision.actor == person.key,
        )
    )
    comments = session.exec(
        select(Comment).where(
            col(Comment.school_id) == session.school_id,
            sa.or_(col(Comment.logged_by) == person.key, col(Comment.closed_by) == person.key),
        )
    ).all()
    accounts = [
        a
        for a in session.exec(
            select(OfficialAccount).where(col(OfficialAccount.school_id) == session.school_id)
        )
        if person.key in (a.contacts or [])
    ]
    sessions = session.exec(
        select(WebSession).where(
            col(WebSession.school_id) == session.school_id,
            WebSession.platform == platform,
            WebSession.user_id == user_id,
        )
    ).all()
    data: dict[str, Any] = {
        "person": {"platform": platform, "user_id": user_id, "display_names": sorted(person.names)},
        "reports_made": [cases.own_case(src, c) for c in found.own],
        "reports_about_you": [cases.about_case(src, c, how) for c, how in found.about],
        "messages_to_you": cases.messages(session, person, {c.id for c in found.own if c.id}),
        "conversation_in_progress": (
            {
                "dialog": dialog.dialog,
                "answers_so_far": split_answers(
                    _answers_so_far(dialog),
                    answer_keys(registry, dialog.dialog),
                    review,
                    "Your conversation in progress",
                    cases.YOU,
                ),
                "updated": _iso(dialog.updated_at),
            }
            if dialog
            else None
        ),
        "roles": [
            {
                "role": r.role,
                "given": _iso(r.added_at),
                "given_by": person.own(r.added_by),
                "email": r.email,  # where unacknowledged alerts are emailed to them
            }
            for r in roles
        ],
        "actions_taken": [
            _event(e, person, review, found, own) for e in events if e.actor == person.key
        ],
        "audit_entries_about_you": [
            _event(e, person, review, found, own)
            for e in events
            if e.actor != person.key and (e.subject in about_refs or _mentions(e, person))
        ],
        "approval_decisions": [
            {
                "stage": d.stage,
                "role": d.role,
                "approved": d.approve,
                "reason": review.hold("An approval decision, your reason", cases.YOU, d.reason),
                "decided": _iso(d.decided_at),
            }
            for d in decisions
        ],
        "comments_logged_or_closed": [
            {
                "reference": c.ref,
                "account": c.account_id,
                "from": c.author_type,
                "text": review.hold(f"{c.ref}, the comment", "a member of the public", c.text),
                "received": _iso(c.received_at),
                "status": c.status,
                "logged_by_you": c.logged_by == person.key,
                "closed_by_you": c.closed_by == person.key,
            }
            for c in comments
        ],
        "accounts_you_are_a_contact_for": [
            {
                "account": a.name,
                "platform": a.platform,
                "status": a.status,
                "approved": _iso(a.approved_on),
                "author": person.own(a.author),
                "moderators": [person.own(m) for m in a.moderators],
                "other_contacts": sum(1 for c in a.contacts if c != person.key),
            }
            for a in accounts
        ],
        "policy_read_confirmations": [
            {"year": r.year, "confirmed": _iso(r.confirmed_at)}
            for r in session.exec(
                select(PolicyRead).where(
                    col(PolicyRead.school_id) == session.school_id,
                    PolicyRead.platform == platform,
                    PolicyRead.user_id == user_id,
                )
            )
        ],
        "web_sessions": [
            {
                "started": _iso(s.created_at),
                "last_used": _iso(s.last_seen_at),
                "ended": _iso(s.ended_at),
            }
            for s in sessions
        ],
        "inbox_cursor": session.get(InboxCursor, (session.school_id, platform, user_id))
        is not None,
        "conversation_reference": session.get(
            ConversationRef, (session.school_id, platform, f"user:{user_id}")
        )
        is not None,
    }
    cases.withhold_concerns(found, review)
    cases.withhold_words_on_child_records(events, person, found, review)
    others = _others(session, person, found.named_others)
    for passage in review.passages:
        passage.text = _scrub(passage.text, others)
    return Export(_scrub(data, others), review, src.files)


def collect(
    session: SchoolSession,
    platform: str,
    user_id: str,
    platforms: tuple[str, ...],
    registry: Registry,
) -> dict[str, Any]:
    """The export's data alone (what the person would be sent), other people redacted."""
    return gather(session, platform, user_id, platforms, registry).data


def _others(session: SchoolSession, person: Person, named: set[str]) -> list[str]:
    """Ids and names of everyone else the bot knows (and the people named in reports as
    the one they are about), longest first."""
    found: set[str] = set(named)
    for case in session.exec(select(Case).where(col(Case.school_id) == session.school_id)):
        found.update({case.reporter_id, f"{case.platform}:{case.reporter_id}"})
        if case.reporter_name:
            found.add(case.reporter_name)
        if case.assignee_id:
            found.add(case.assignee_id)
    own_emails: set[str] = set()
    for row in session.exec(
        select(RoleAssignment).where(col(RoleAssignment.school_id) == session.school_id)
    ):
        found.update({row.user_id, f"{row.platform}:{row.user_id}", row.added_by, row.email or ""})
        if row.email and (row.platform, row.user_id) == (person.platform, person.user_id):
            own_emails.add(row.email)
    for event in session.exec(
        select(AuditEvent).where(col(AuditEvent.school_id) == session.school_id)
    ):
        found.add(event.actor)
        by = event.detail.get("by")
        if isinstance(by, str):
            found.add(by)
    for model in (WebSession, WebSignIn):
        for signed_in in cast("Iterable[WebSession | WebSignIn]", session.exec(select(model))):
            found.update({signed_in.user_id, signed_in.name or ""})
    mine = {person.key, person.user_id, *person.names, *own_emails, "system", ""}
    folded = {m.casefold() for m in mine}
    return sorted(
        (f for f in found if f.casefold() not in folded and len(f) > 1), key=len, reverse=True
    )


def _scrub(value: Any, others: list[str]) -> Any:
    if isinstance(value, str):
        for other in others:
            if other in value:
                value = _word(other).sub(REDACTED, value)
        return value
    if isinstance(value, list):
        return [_scrub(v, others) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, others) for k, v in value.items()}
    return value
