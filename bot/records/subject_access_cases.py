"""The cases in a subject access export: the reports a person made, the reports others made
about them, and the evidence files they supplied.

A report of abuse aimed at a colleague records their name (the cyberbullying conversation
asks for it); a report's words can name them too. Both are found by the names the bot
knows for the person and any the DPO adds (`--name`). A concern about them raised with one
role (KCSIE Part 4) is never put in their export: it goes to the DPO's review file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.domain.cases import role_of_team
from bot.kernel.evidence_keys import EvidenceLocked
from bot.kernel.evidence_store import EvidenceStore
from bot.kernel.registry import Registry
from bot.records.subject_access_review import (
    ABOUT_THEM,
    CHILD_RECORD,
    KEPT,
    Review,
    about_a_child,
    answer_keys,
    split_answers,
)
from bot.storage.scoping import SchoolSession
from bot.storage.tables import AuditEvent, Case, CaseTask, Evidence, Outbox

if TYPE_CHECKING:
    from bot.records.subject_access import Person

YOU = "you"
ALERT = "[an alert about a case you handle: not copied here, it holds other people's information]"
CHILD_MARKER = "[withheld: safeguarding record about a child, for the DPO to decide]"
# Audit detail keys holding someone's own words.
WORDS = ("note", "outcome", "to_reporter", "reason")
# Answers that name the person a report is about: the colleague abused, the colleague a
# concern is raised about.
NAMING_KEYS = ("colleague", "name")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass
class Found:
    """The cases that concern one person, sorted by how the export treats them."""

    own: list[Case] = field(default_factory=list)
    about: list[tuple[Case, str]] = field(default_factory=list)  # with how it concerns them
    # Raised with one role (a concern about staff) and naming them: for the DPO only.
    concerns: list[tuple[Case, str]] = field(default_factory=list)
    child: set[str] = field(default_factory=set)  # refs of every record about a child
    named_others: set[str] = field(default_factory=set)  # other people named in answers

    @property
    def hidden(self) -> set[str]:
        return {c.ref for c, _ in self.concerns}


def named(person: Person, text: str) -> bool:
    """Does this text name the person (a name the bot or the DPO knows, or their chat id)?"""
    folded = text.casefold()
    if any(
        re.search(rf"(?<!\w){re.escape(n.casefold())}(?!\w)", folded)
        for n in person.names
        if len(n) >= 3
    ):
        return True
    return f"<@{person.user_id}>" in text or (len(person.user_id) >= 6 and person.user_id in text)


def find(session: SchoolSession, person: Person, registry: Registry) -> Found:
    found = Found()
    for case in session.exec(
        select(Case).where(col(Case.school_id) == session.school_id).order_by(col(Case.id))
    ):
        if about_a_child(case):
            found.child.add(case.ref)
        if (case.platform, case.reporter_id) == (person.platform, person.user_id):
            found.own.append(case)
            continue
        details = case.details or {}
        naming = [str(details[k]) for k in NAMING_KEYS if details.get(k)]
        choices, files = answer_keys(registry, registry.case_kind(case.kind).dialog)
        words = [str(v) for k, v in details.items() if v and k not in choices | files | KEPT]
        if any(named(person, n) for n in naming):
            how = "you are named as the person it is about"
        elif any(named(person, w) for w in words):
            how = "you are named in the report's words"
        else:
            found.named_others.update(naming)
            continue
        if role_of_team(case.team) is not None:
            found.concerns.append((case, how))
        else:
            found.about.append((case, how))
    return found


def _events(events: list[AuditEvent], ref: str, action: str) -> list[AuditEvent]:
    return [e for e in events if e.subject == ref and e.action == action]


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.\- ]", "_", name).strip(" .")[:100] or "file"


def _evidence_bytes(store: EvidenceStore, sha256: str) -> bytes | None:
    """The file's original bytes (decrypted), or None when missing, changed since it was
    sent, or encrypted with a key this server does not have."""
    try:
        data = store.read(sha256)
    except (FileNotFoundError, EvidenceLocked):
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


@dataclass
class Sources:
    """What building one export reads from and adds to."""

    session: SchoolSession
    person: Person
    registry: Registry
    events: list[AuditEvent]
    review: Review
    store: EvidenceStore | None
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (name in the zip, bytes)


def own_case(src: Sources, case: Case) -> dict[str, Any]:
    """A report they made: their outcome and the message to them in full, their words
    held for review, their files included; a record about a child withheld."""
    session, registry, events, review = src.session, src.registry, src.events, src.review
    base = {
        "reference": case.ref,
        "kind": registry.case_kind(case.kind).title,
        "status": case.status,
        "reported_by": YOU,
        "opened": _iso(case.created_at),
        "acknowledged": _iso(case.acknowledged_at),
        "closed": _iso(case.closed_at),
    }
    evidence = session.exec(
        select(Evidence).where(Evidence.school_id == session.school_id, Evidence.case_id == case.id)
    ).all()
    if about_a_child(case):
        notes = len(_events(events, case.ref, "case.note"))
        review.withhold(
            case.ref,
            f"their own report and its record: answers, {notes} note(s), the outcome and "
            f"{len(evidence)} file(s)",
            CHILD_RECORD,
        )
        return {**base, "withheld": CHILD_MARKER}
    where = f"{case.ref}, your answer"
    closing = _events(events, case.ref, "case.closed")
    tasks = session.exec(
        select(CaseTask).where(CaseTask.school_id == session.school_id, CaseTask.case_id == case.id)
    ).all()
    return {
        **base,
        "urgent": case.urgent,
        "owning_team": case.team.upper(),
        "your_answers": split_answers(case.details, _keys(registry, case), review, where, YOU),
        "outcome": case.outcome,
        "message_to_you": closing[-1].detail.get("to_reporter") if closing else None,
        "notes_by_the_team": [
            review.hold(f"{case.ref}, a note by the team", "another person", e.detail.get("note"))
            for e in _events(events, case.ref, "case.note")
        ],
        "follow_up_tasks": [
            {"title": t.title, "due": _iso(t.due_at), "done": _iso(t.done_at)} for t in tasks
        ],
        "evidence": [_file(src, case, e) for e in evidence],
    }


def _keys(registry: Registry, case: Case) -> tuple[set[str], set[str]]:
    return answer_keys(registry, registry.case_kind(case.kind).dialog)


def _file(src: Sources, case: Case, item: Evidence) -> dict[str, Any]:
    if item.uploaded_by != src.person.key:
        return {"added_by": "another person", "added": _iso(item.uploaded_at), "included": False}
    entry: dict[str, Any] = {
        "file_name": item.filename,
        "type": item.content_type,
        "size_bytes": item.size,
        "sha256": item.sha256,
        "added": _iso(item.uploaded_at),
    }
    data = _evidence_bytes(src.store, item.sha256) if src.store else None
    if data is None:
        return {**entry, "included": False, "why_not": "the file is no longer on the server"}
    name = f"evidence/{case.ref}/{item.id}-{_safe_name(item.filename)}"
    src.files.append((name, data))
    return {**entry, "included": name}


def about_case(src: Sources, case: Case, how: str) -> dict[str, Any]:
    """A report someone else made about them: what and when, not who; the words held."""
    registry, review = src.registry, src.review
    where = f"{case.ref}, the reporter's answer"
    base = {
        "reference": case.ref,
        "kind": registry.case_kind(case.kind).title,
        "status": case.status,
        "how_it_concerns_you": how,
        "reported_by": "another person",
        "opened": _iso(case.created_at),
        "closed": _iso(case.closed_at),
    }
    if about_a_child(case):
        review.withhold(case.ref, f"a report by someone else that names them ({how})", CHILD_RECORD)
        return {**base, "withheld": CHILD_MARKER}
    files = src.session.exec(
        select(Evidence).where(
            Evidence.school_id == src.session.school_id, Evidence.case_id == case.id
        )
    ).all()
    # Their own name, where the report names them, is theirs: not held for review.
    theirs = {k for k in NAMING_KEYS if named(src.person, str(case.details.get(k) or ""))}
    others = {k: v for k, v in case.details.items() if k not in theirs}
    answers = split_answers(others, _keys(registry, case), review, where, "another person")
    return {
        **base,
        "answers": {**answers, **dict.fromkeys(theirs, YOU)},
        "outcome": review.hold(f"{case.ref}, the outcome", "another person", case.outcome),
        "evidence": f"{len(files)} file(s) sent by the person who reported it (not included)",
    }


def withhold_concerns(found: Found, review: Review) -> None:
    for case, how in found.concerns:
        review.withhold(case.ref, f"a concern raised with one role ({how})", ABOUT_THEM)


def messages(session: SchoolSession, person: Person, own_ids: set[int]) -> list[dict[str, Any]]:
    """What the bot sent them: in full about their own reports (the DSL's message
    included); an alert about a case they handle is only listed."""
    rows = session.exec(
        select(Outbox)
        .where(
            col(Outbox.school_id) == session.school_id,
            sa.or_(
                sa.and_(
                    col(Outbox.platform) == person.platform,
                    col(Outbox.target_kind) == "user",
                    col(Outbox.target) == person.user_id,
                ),
                sa.and_(col(Outbox.target_kind) == "email", col(Outbox.target) == person.key),
            ),
        )
        .order_by(col(Outbox.id))
    )
    listed = []
    for row in rows:
        theirs = row.case_id is None or row.case_id in own_ids
        listed.append(
            {
                "sent": _iso(row.sent_at),
                "status": row.status,
                "by": "email" if row.target_kind == "email" else "chat",
                "text": row.message.get("text") if theirs else ALERT,
                "title": row.message.get("title") if theirs else None,
            }
        )
    return listed


def withhold_words_on_child_records(
    events: list[AuditEvent], person: Person, found: Found, review: Review
) -> None:
    """Their own notes and outcomes on a record about a child (a DSL's work): named for
    the DPO, never copied, since they are the child's safeguarding record."""
    own = {c.ref for c in found.own}
    written: dict[str, int] = {}
    for event in events:
        if event.actor == person.key and event.subject in found.child - own:
            words = [k for k, v in event.detail.items() if k in WORDS and v]
            if words:
                written[event.subject] = written.get(event.subject, 0) + 1
    for ref, count in written.items():
        review.withhold(
            ref,
            f"{count} note(s) or outcome(s) they wrote on this record (not copied here; the "
            "DPO can read them in the case file)",
            CHILD_RECORD,
        )
