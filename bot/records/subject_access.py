"""Subject access requests: what the bot holds about one member of staff.

`export_zip` gathers their reports, conversation in progress, roles, the actions they
took, the audit entries about them, the comments they logged and the accounts they are a
contact for. Anything in those records that is another person's (their user ids, display
names, or words they wrote, such as the DSL's notes and outcomes) is replaced by
REDACTED. A last pass replaces every other person's id or name known to the bot wherever
it still appears, so a name quoted in a record cannot slip through.

Leavers are in records/leavers.py.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.kernel.core import Kernel
from bot.kernel.registry import Registry
from bot.storage.tables import (
    ApprovalDecision,
    AuditEvent,
    Case,
    CaseTask,
    Comment,
    ConversationRef,
    DialogState,
    Evidence,
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
# Free text that is the actor's own words: theirs when they acted, redacted otherwise.
OWN_WORDS = {"by", "note", "outcome", "to_reporter", "reason"}


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


def names_of(session: Session, person: Person) -> set[str]:
    names: set[str] = set()
    for case in session.exec(select(Case).where(*reported_by(person))):
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
    for event in session.exec(select(AuditEvent).where(AuditEvent.actor == person.key)):
        by = event.detail.get("by")
        if isinstance(by, str) and by:
            names.add(by)
    return names


def reported_by(person: Person) -> list[Any]:
    return [col(Case.platform) == person.platform, col(Case.reporter_id) == person.user_id]


def _event(event: AuditEvent, person: Person) -> dict[str, Any]:
    mine = event.actor == person.key
    detail: dict[str, Any] = {}
    for key, value in event.detail.items():
        if key in SAFE_DETAIL or (key in OWN_WORDS and mine):
            detail[key] = value
        elif value is not None:
            detail[key] = REDACTED
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


def _case(
    session: Session, case: Case, person: Person, closed_by: str | None, registry: Registry
) -> dict[str, Any]:
    evidence = session.exec(select(Evidence).where(Evidence.case_id == case.id)).all()
    tasks = session.exec(select(CaseTask).where(CaseTask.case_id == case.id)).all()
    return {
        "reference": case.ref,
        "kind": registry.case_kind(case.kind).title,
        "status": case.status,
        "urgent": case.urgent,
        "owning_team": case.team.upper(),
        "reported_by": case.reporter_name or person.user_id,
        "assigned_to": person.own(case.assignee_id),
        "opened": _iso(case.created_at),
        "acknowledged": _iso(case.acknowledged_at),
        "closed": _iso(case.closed_at),
        "outcome": case.outcome if closed_by == person.key else (case.outcome and REDACTED),
        "your_answers": case.details,
        "summary": case.summary,
        "flags": case.flags,
        "guidance_clauses": case.guidance,
        "follow_up_tasks": [
            {"title": t.title, "due": _iso(t.due_at), "done": _iso(t.done_at)} for t in tasks
        ],
        "evidence": [
            {
                "file_name": e.filename if e.uploaded_by == person.key else REDACTED,
                "type": e.content_type,
                "size_bytes": e.size,
                "sha256": e.sha256,
                "added_by": person.own(e.uploaded_by),
                "added": _iso(e.uploaded_at),
            }
            for e in evidence
        ],
    }


def _mentions(event: AuditEvent, person: Person) -> bool:
    if event.subject == person.key or event.actor == person.key:
        return True
    text = json.dumps(event.detail, ensure_ascii=False)
    return any(_word(n).search(text) for n in {person.user_id, person.key, *person.names})


def _word(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")


def collect(
    session: Session, platform: str, user_id: str, platforms: tuple[str, ...], registry: Registry
) -> dict[str, Any]:
    """Everything the bot holds about this person, with other people redacted (JSON-ready)."""
    person = Person(platform, user_id, platforms=platforms)
    person.names = names_of(session, person)
    cases = list(session.exec(select(Case).where(*reported_by(person)).order_by(col(Case.id))))
    refs = {c.ref for c in cases}
    events = list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))
    closers = {e.subject: e.actor for e in events if e.action == "case.closed"}
    dialog = session.get(DialogState, (platform, user_id))
    roles = session.exec(
        select(RoleAssignment).where(
            RoleAssignment.platform == platform, RoleAssignment.user_id == user_id
        )
    ).all()
    decisions = session.exec(select(ApprovalDecision).where(ApprovalDecision.actor == person.key))
    comments = session.exec(
        select(Comment).where(
            sa.or_(col(Comment.logged_by) == person.key, col(Comment.closed_by) == person.key)
        )
    ).all()
    accounts = [
        a for a in session.exec(select(OfficialAccount)) if person.key in (a.contacts or [])
    ]
    sessions = session.exec(
        select(WebSession).where(WebSession.platform == platform, WebSession.user_id == user_id)
    ).all()
    data: dict[str, Any] = {
        "person": {"platform": platform, "user_id": user_id, "display_names": sorted(person.names)},
        "reports_made": [_case(session, c, person, closers.get(c.ref), registry) for c in cases],
        "conversation_in_progress": (
            {
                "dialog": dialog.dialog,
                "answers_so_far": dialog.state,
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
        "actions_taken": [_event(e, person) for e in events if e.actor == person.key],
        "audit_entries_about_you": [
            _event(e, person)
            for e in events
            if e.actor != person.key and (e.subject in refs or _mentions(e, person))
        ],
        "approval_decisions": [
            {
                "stage": d.stage,
                "role": d.role,
                "approved": d.approve,
                "reason": d.reason,
                "decided": _iso(d.decided_at),
            }
            for d in decisions
        ],
        "comments_logged_or_closed": [
            {
                "reference": c.ref,
                "account": c.account_id,
                "from": c.author_type,
                "text": REDACTED,
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
                    PolicyRead.platform == platform, PolicyRead.user_id == user_id
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
        "inbox_cursor": session.get(InboxCursor, (platform, user_id)) is not None,
        "conversation_reference": session.get(ConversationRef, (platform, f"user:{user_id}"))
        is not None,
    }
    return _scrub(data, _others(session, person))


def _others(session: Session, person: Person) -> list[str]:
    """Ids and names of everyone else the bot knows, longest first."""
    found: set[str] = set()
    for case in session.exec(select(Case)):
        found.update({case.reporter_id, f"{case.platform}:{case.reporter_id}"})
        if case.reporter_name:
            found.add(case.reporter_name)
        if case.assignee_id:
            found.add(case.assignee_id)
    own_emails: set[str] = set()
    for row in session.exec(select(RoleAssignment)):
        found.update({row.user_id, f"{row.platform}:{row.user_id}", row.added_by, row.email or ""})
        if row.email and (row.platform, row.user_id) == (person.platform, person.user_id):
            own_emails.add(row.email)
    for event in session.exec(select(AuditEvent)):
        found.add(event.actor)
        by = event.detail.get("by")
        if isinstance(by, str):
            found.add(by)
    for model in (WebSession, WebSignIn):
        for signed_in in cast("Iterable[WebSession | WebSignIn]", session.exec(select(model))):
            found.update({signed_in.user_id, signed_in.name or ""})
    mine = {person.key, person.user_id, *person.names, *own_emails, "system", ""}
    return sorted((f for f in found if f not in mine and len(f) > 1), key=len, reverse=True)


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


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%-d %B %Y")


def summary_text(data: dict[str, Any], school: str, made: str) -> str:
    person = data["person"]
    lines = [
        f"What {school}'s schoolbot holds about {person['user_id']} ({person['platform']})",
        f"Made {made} for a subject access request.",
        "",
        f"Reports you made: {len(data['reports_made'])}",
        *(
            f"  {c['reference']} ({c['kind']}), opened {_day(c['opened'])}, "
            f"{c['status'].replace('_', ' ')}"
            for c in data["reports_made"]
        ),
        f"A conversation in progress: {'yes' if data['conversation_in_progress'] else 'no'}",
        f"Roles: {', '.join(r['role'] for r in data['roles']) or 'none'}",
        "Email address for alerts: "
        + (", ".join(sorted({r["email"] for r in data["roles"] if r["email"]})) or "none"),
        f"Actions you took: {len(data['actions_taken'])}",
        f"Other entries in the audit trail about you or your reports: "
        f"{len(data['audit_entries_about_you'])}",
        f"Approval decisions: {len(data['approval_decisions'])}",
        f"Comments you logged or closed: {len(data['comments_logged_or_closed'])}",
        f"Official accounts you are a contact for: {len(data['accounts_you_are_a_contact_for'])}",
        f"Web workspace sessions: {len(data['web_sessions'])}",
        "Yearly policy reminders you confirmed reading: "
        + (", ".join(str(r["year"]) for r in data["policy_read_confirmations"]) or "none"),
        "",
        f"Other people's names, ids and words are shown as {REDACTED}.",
        "Everything is in person.json, with times in UTC.",
    ]
    return "\n".join(lines) + "\n"


def export_zip(
    session: Session, kernel: Kernel, platform: str, user_id: str, made: str
) -> tuple[bytes, int]:
    """The zip's bytes and how many records it holds; `made` is when, in words."""
    data = collect(session, platform, user_id, kernel.platform_names, kernel.registry)
    school = kernel.pack.school.name
    count = sum(len(v) for v in data.values() if isinstance(v, list))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("summary.txt", summary_text(data, school, made))
    return buffer.getvalue(), count
