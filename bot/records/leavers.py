"""Members of staff who leave: remove what the retention rules allow, with a dry run.

Safeguarding records (cases owned by the DSL) and the audit trail are kept. What goes is
their working state: the conversation in progress, roles (with the email address kept for
alerts, and any alert email not yet sent to it), inbox position, web sign-ins and
sessions, conversation references and account contacts. Their display name on other
records becomes "former member of staff".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from bot.records.subject_access import FORMER, Person, names_of, reported_by
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import (
    Case,
    ConversationRef,
    DialogState,
    InboxCursor,
    OfficialAccount,
    Outbox,
    RoleAssignment,
    WebSession,
    WebSignIn,
)


@dataclass(frozen=True)
class Step:
    words: str
    count: int


def erase_plan(session: SchoolSession, platform: str, user_id: str) -> list[Step]:
    """What `erase_person` would do, one line each, without doing it."""
    return _erase(session, platform, user_id, apply=False)


def erase_person(
    session: SchoolSession, platform: str, user_id: str, now: datetime, by: str
) -> list[Step]:
    steps = _erase(session, platform, user_id, apply=True)
    repo.audit(
        session,
        now,
        by,
        "records.erased",
        f"{platform}:{user_id}",
        **{_slug(s.words): s.count for s in steps},
    )
    return steps


def _slug(words: str) -> str:
    return re.sub(r"[^a-z]+", "_", words.lower()).strip("_")[:40]


def _erase(session: SchoolSession, platform: str, user_id: str, *, apply: bool) -> list[Step]:
    person = Person(platform, user_id)
    person.names = names_of(session, person)
    # (what, table, conditions): sqlmodel types `Model.column == value` as a bool, hence Any.
    deletions: list[tuple[str, type[SQLModel], list[Any]]] = [
        (
            "conversation in progress",
            DialogState,
            [DialogState.platform == platform, DialogState.user_id == user_id],
        ),
        (
            "role assignments",
            RoleAssignment,
            [RoleAssignment.platform == platform, RoleAssignment.user_id == user_id],
        ),
        (
            "inbox position",
            InboxCursor,
            [InboxCursor.platform == platform, InboxCursor.user_id == user_id],
        ),
        (
            "web sessions",
            WebSession,
            [WebSession.platform == platform, WebSession.user_id == user_id],
        ),
        (
            "web sign-in links",
            WebSignIn,
            [WebSignIn.platform == platform, WebSignIn.user_id == user_id],
        ),
        (
            "conversation references",
            ConversationRef,
            [ConversationRef.platform == platform, ConversationRef.key == f"user:{user_id}"],
        ),
    ]
    # Escalation emails not yet sent to them: their address goes with their roles, and
    # nothing may still be addressed to them.
    deletions.append(
        (
            "escalation emails not yet sent",
            Outbox,
            [
                Outbox.platform == "email",
                Outbox.target == f"{platform}:{user_id}",
                Outbox.status == "pending",
            ],
        )
    )
    steps: list[Step] = []
    for words, model, where in deletions:
        rows = session.exec(select(model).where(*where)).all()
        if rows:
            steps.append(Step(f"Delete their {words}", len(rows)))
            if apply:
                for row in rows:
                    session.delete(row)
    named = [
        c
        for c in session.exec(
            select(Case).where(
                col(Case.school_id) == session.school_id, *reported_by(person), Case.team != "dsl"
            )
        )
        if c.reporter_name and c.reporter_name != FORMER
    ]
    if named:
        steps.append(
            Step("Show them as former member of staff on non-safeguarding reports", len(named))
        )
        if apply:
            for case in named:
                case.reporter_name = FORMER
                session.add(case)
    accounts = list(
        session.exec(
            select(OfficialAccount).where(col(OfficialAccount.school_id) == session.school_id)
        )
    )
    contact = [a for a in accounts if person.key in (a.contacts or [])]
    if contact:
        steps.append(Step("Stop sending them comment nudges for official accounts", len(contact)))
        if apply:
            for a in contact:
                a.contacts = [c for c in a.contacts if c != person.key]
                session.add(a)
    credited = [
        a
        for a in accounts
        if a.author in person.names or any(m in person.names for m in a.moderators)
    ]
    if credited:
        steps.append(
            Step("Show them as former member of staff in the account register", len(credited))
        )
        if apply:
            for a in credited:
                a.author = FORMER if a.author in person.names else a.author
                a.moderators = [FORMER if m in person.names else m for m in a.moderators]
                session.add(a)
    kept = session.exec(
        select(sa.func.count()).select_from(Case).where(*reported_by(person), Case.team == "dsl")
    ).one()
    if kept:
        steps.append(Step("Keep their safeguarding reports as they are (retention rules)", kept))
    return steps
