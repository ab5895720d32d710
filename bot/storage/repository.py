"""Queries and atomic updates, one small function each, all taking the caller's session.

Anything that two people might do at once (acknowledge, close, decide a stage) is a
compare-and-set update or a unique insert, so it happens once whoever clicks first.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col, select

from bot.storage.scoping import SchoolSession
from bot.storage.tables import (
    Approval,
    AuditEvent,
    Case,
    Counter,
    DialogState,
    Evidence,
    ProcessedDelivery,
    RoleAssignment,
)


def rowcount(result: sa.Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. sqlmodel types `Session.execute` as returning a
    plain Result; for those statements it is a CursorResult, which has the count."""
    return cast("sa.CursorResult[Any]", result).rowcount


# --- roles ----------------------------------------------------------------------------


# Built once: every turn asks, and building the statement (and its cache key) each time
# cost more than running it.
_ROLES_OF = select(RoleAssignment.role).where(
    RoleAssignment.school_id == sa.bindparam("school"),
    RoleAssignment.platform == sa.bindparam("platform"),
    RoleAssignment.user_id == sa.bindparam("user_id"),
)


def roles_of(session: SchoolSession, platform: str, user_id: str) -> frozenset[str]:
    return frozenset(
        session.exec(
            _ROLES_OF,
            params={"school": session.school_id, "platform": platform, "user_id": user_id},
        )
    )


def add_role(
    session: SchoolSession, platform: str, user_id: str, role: str, by: str, *, now: datetime
) -> bool:
    if role in roles_of(session, platform, user_id):
        return False
    session.add(
        RoleAssignment(
            platform=platform,
            user_id=user_id,
            role=role,
            added_by=by,
            added_at=now,
            email=email_of(session, platform, user_id),  # one address per person
        )
    )
    return True


def remove_role(session: SchoolSession, platform: str, user_id: str, role: str) -> bool:
    result = session.execute(
        sa.delete(RoleAssignment).where(
            col(RoleAssignment.school_id) == session.school_id,
            col(RoleAssignment.platform) == platform,
            col(RoleAssignment.user_id) == user_id,
            col(RoleAssignment.role) == role,
        )
    )
    return rowcount(result) > 0


def all_roles(session: SchoolSession) -> list[RoleAssignment]:
    return list(
        session.exec(
            select(RoleAssignment)
            .where(RoleAssignment.school_id == session.school_id)
            .order_by(RoleAssignment.platform, RoleAssignment.user_id)
        )
    )


def holders(
    session: SchoolSession, roles: list[str], platform: str | None = None
) -> list[RoleAssignment]:
    """Who holds any of `roles` (on one platform if given), oldest assignment first."""
    query = select(RoleAssignment).where(
        RoleAssignment.school_id == session.school_id, col(RoleAssignment.role).in_(roles)
    )
    if platform is not None:
        query = query.where(RoleAssignment.platform == platform)
    return list(session.exec(query.order_by(col(RoleAssignment.id))))


def set_email(session: SchoolSession, platform: str, user_id: str, email: str) -> None:
    """One address per person: on every role they hold, so any of them finds it."""
    for row in session.exec(
        select(RoleAssignment).where(
            RoleAssignment.school_id == session.school_id,
            RoleAssignment.platform == platform,
            RoleAssignment.user_id == user_id,
        )
    ):
        row.email = email
        session.add(row)


def email_of(session: SchoolSession, platform: str, user_id: str) -> str | None:
    """Where the escalation ladder emails this person (set by `roles add --email`)."""
    return session.exec(
        select(RoleAssignment.email)
        .where(
            RoleAssignment.school_id == session.school_id,
            RoleAssignment.platform == platform,
            RoleAssignment.user_id == user_id,
            col(RoleAssignment.email).is_not(None),
        )
        .order_by(col(RoleAssignment.id))
    ).first()


# --- dialog state ---------------------------------------------------------------------


class TurnConflict(Exception):
    """Another turn for the same person committed first (a double click, or two instances)."""


def _version_key(platform: str, user_id: str) -> tuple[str, str, str]:
    return ("dialog_version", platform, user_id)


def get_dialog(session: SchoolSession, platform: str, user_id: str) -> DialogState | None:
    """Also remembers, in the session, which version this turn read: saving checks it."""
    row = session.get(DialogState, (session.school_id, platform, user_id))
    session.info[_version_key(platform, user_id)] = row.version if row else None
    return row


def forget_request_ids(session: SchoolSession, before: datetime) -> int:
    """Drop inbound ids older than any retry could be; returns how many."""
    table: sa.Table = ProcessedDelivery.__table__  # type: ignore[attr-defined]  # set by sqlmodel
    return rowcount(session.execute(sa.delete(table).where(table.c.at < before)))


def dialog_changed_since(
    session: SchoolSession, platform: str, user_id: str, moment: datetime
) -> bool:
    row = session.get(DialogState, (session.school_id, platform, user_id))
    return row is not None and row.updated_at > moment


def save_dialog(
    session: SchoolSession, platform: str, user_id: str, state: dict[str, Any], now: datetime
) -> None:
    """Compare-and-set against the version read; TurnConflict if another turn got there first."""
    key = _version_key(platform, user_id)
    expected = session.info.get(key)
    if expected is None:
        row = {
            "school_id": session.school_id,
            "platform": platform,
            "user_id": user_id,
            "dialog": state["dialog"],
        }
        try:
            session.execute(_NEW_DIALOG, {**row, "state": state, "updated_at": now, "version": 1})
        except sa.exc.IntegrityError as exc:  # the caller rolls back and plays it again
            raise TurnConflict from exc
    else:
        values = {"new_dialog": state["dialog"], "new_state": state, "new_at": now}
        this = {
            "key_school": session.school_id,
            "key_platform": platform,
            "key_user": user_id,
            "expected": expected,
        }
        if rowcount(session.execute(_NEXT_DIALOG, {**values, **this})) != 1:
            raise TurnConflict
    session.info[key] = 1 if expected is None else expected + 1


def clear_dialog(session: SchoolSession, platform: str, user_id: str) -> None:
    key = _version_key(platform, user_id)
    expected = session.info.get(key)
    params = {"key_school": session.school_id, "key_platform": platform, "key_user": user_id}
    if expected is None:
        session.execute(_END_DIALOG, params)
    elif rowcount(session.execute(_END_DIALOG_AT, {**params, "expected": expected})) != 1:
        raise TurnConflict
    session.info[key] = None


def evidence_in_use(
    session: SchoolSession,
    sha256: str,
    *,
    except_dialog: tuple[str, str] | None = None,
    answers: bool = True,
) -> bool:
    """Does anything still use a file with these bytes (they are stored once per SHA-256)?
    A case's evidence, a case's saved answers (an unfinished report passed to the DSL;
    `answers=False` leaves these out, for a file that may not be kept at all), or an
    unfinished conversation (`except_dialog`: one not to count, the one asking). A file
    in use is never deleted."""
    # Across the trust: the store keeps one file per SHA-256 whichever school sent it.
    # (A school's session sees only its own rows on PostgreSQL; the store's files are
    # the evidence helper's to separate, see docs/schools.md.)
    if session.exec(select(Evidence.id).where(Evidence.sha256 == sha256)).first() is not None:
        return True
    if not _HEX.fullmatch(sha256):
        return True  # not a name the store gives: never treat it as free
    like = f"%{sha256}%"
    live = select(Case.id).where(
        col(Case.disposed_at).is_(None), sa.cast(col(Case.details), sa.Text).like(like)
    )
    if answers and session.exec(live).first() is not None:
        return True
    dialogs = select(DialogState.platform, DialogState.user_id).where(
        sa.cast(col(DialogState.state), sa.Text).like(like)
    )
    return any((platform, user) != except_dialog for platform, user in session.exec(dialogs))


_HEX = re.compile(r"[0-9a-f]{64}")


def idle_dialogs(
    session: SchoolSession, before: datetime, dialogs: Collection[str]
) -> list[tuple[str, str]]:
    """(platform, user id) of every conversation of these kinds nobody has answered since
    `before`, oldest first (SG-UNFINISHED). All of them, not the oldest few: rows already
    reminded stay idle for weeks and must not crowd out newer ones. One row per person."""
    query = (
        select(DialogState.platform, DialogState.user_id)
        .where(
            DialogState.school_id == session.school_id,
            col(DialogState.updated_at) <= before,
            col(DialogState.dialog).in_(dialogs),
        )
        .order_by(col(DialogState.updated_at))
    )
    return [(platform, user_id) for platform, user_id in session.exec(query)]


def mark_dialog(session: SchoolSession, row: DialogState, state: dict[str, Any]) -> bool:
    """The sweep's note on a conversation (a reminder sent), compare-and-set on its version
    and leaving `updated_at` alone: the person's last answer is still when they last spoke.
    False if a turn (or another instance) changed it first."""
    done = session.execute(
        sa.update(_DIALOG)
        .where(
            _DIALOG.c.school_id == session.school_id,
            _DIALOG.c.platform == row.platform,
            _DIALOG.c.user_id == row.user_id,
            _DIALOG.c.version == row.version,
        )
        .values(state=state, version=row.version + 1)
    )
    return rowcount(done) == 1


# The dialog statements run on every turn: built once (building them and their cache keys
# cost more than running them), on the table, not through the ORM's unit of work.
_DIALOG = DialogState.__table__  # type: ignore[attr-defined]
_THIS_DIALOG = (
    _DIALOG.c.school_id == sa.bindparam("key_school"),
    _DIALOG.c.platform == sa.bindparam("key_platform"),
    _DIALOG.c.user_id == sa.bindparam("key_user"),
)
_NEW_DIALOG = sa.insert(_DIALOG)
_NEXT_DIALOG = (
    sa.update(_DIALOG)
    .where(*_THIS_DIALOG, _DIALOG.c.version == sa.bindparam("expected"))
    .values(
        dialog=sa.bindparam("new_dialog"),
        state=sa.bindparam("new_state"),
        updated_at=sa.bindparam("new_at"),
        version=sa.bindparam("expected") + 1,
    )
)
_END_DIALOG = sa.delete(_DIALOG).where(*_THIS_DIALOG)
_END_DIALOG_AT = _END_DIALOG.where(_DIALOG.c.version == sa.bindparam("expected"))


# --- cases ----------------------------------------------------------------------------


def next_number(session: SchoolSession, name: str) -> int:
    result = session.execute(
        sa.update(Counter)
        .where(col(Counter.school_id) == session.school_id, col(Counter.name) == name)
        .values(value=Counter.value + 1)
        .returning(col(Counter.value))
    )
    number = result.scalar_one_or_none()
    if number is None:
        session.add(Counter(name=name, value=1))
        session.flush()
        return 1
    return int(number)


def case_by_ref(session: SchoolSession, ref: str) -> Case | None:
    return session.exec(
        select(Case).where(Case.school_id == session.school_id, Case.ref == ref.upper())
    ).first()


def cases_reported_by(
    session: SchoolSession, platform: str, user_id: str, limit: int = 20
) -> list[Case]:
    return list(
        session.exec(
            select(Case)
            .where(
                Case.school_id == session.school_id,
                Case.platform == platform,
                Case.reporter_id == user_id,
            )
            .order_by(col(Case.id).desc())
            .limit(limit)
        )
    )


def open_cases_for_teams(session: SchoolSession, teams: set[str], limit: int = 20) -> list[Case]:
    if not teams:
        return []
    return list(
        session.exec(
            select(Case)
            .where(
                Case.school_id == session.school_id,
                col(Case.team).in_(teams),
                Case.status != "closed",
            )
            .order_by(col(Case.urgent).desc(), col(Case.id).desc())
            .limit(limit)
        )
    )


def recent_cases(
    session: SchoolSession, *, include_closed: bool = False, limit: int = 200
) -> list[Case]:
    query = (
        select(Case)
        .where(Case.school_id == session.school_id)
        .order_by(col(Case.id).desc())
        .limit(limit)
    )
    if not include_closed:
        query = query.where(Case.status != "closed")
    return list(session.exec(query))


def transition_case(
    session: SchoolSession, case_id: int, from_statuses: tuple[str, ...], values: dict[str, Any]
) -> bool:
    """Compare-and-set: change the case only if it is still in one of `from_statuses`."""
    result = session.execute(
        sa.update(Case)
        .where(
            col(Case.school_id) == session.school_id,
            col(Case.id) == case_id,
            col(Case.status).in_(from_statuses),
        )
        .values(**values)
    )
    return rowcount(result) == 1


def approval_for(session: SchoolSession, case_id: int) -> Approval | None:
    return session.exec(
        select(Approval).where(Approval.school_id == session.school_id, Approval.case_id == case_id)
    ).first()


def approval_statuses(session: SchoolSession, case_ids: list[int]) -> dict[int, str]:
    """case id -> its approval's status ("pending", "approved", "rejected"), in one query."""
    if not case_ids:
        return {}
    rows = session.exec(
        select(Approval.case_id, Approval.status).where(
            Approval.school_id == session.school_id, col(Approval.case_id).in_(case_ids)
        )
    )
    return dict(rows.all())


# --- audit ----------------------------------------------------------------------------


def audit(
    session: SchoolSession, now: datetime, actor: str, action: str, subject: str, **detail: Any
) -> None:
    session.add(AuditEvent(at=now, actor=actor, action=action, subject=subject, detail=detail))


def timeline(session: SchoolSession, subject: str) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.school_id == session.school_id, AuditEvent.subject == subject)
            .order_by(col(AuditEvent.id))
        )
    )


# --- inbound deduplication ------------------------------------------------------------


_INSERT_NEW: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def insert_new(session: SchoolSession, model: type[SQLModel], **values: Any) -> bool:
    """Insert a row unless one with the same unique key exists; True if it was inserted.

    One INSERT ... ON CONFLICT DO NOTHING: no read first, no race with another instance
    doing the same, and a conflict doesn't abort the caller's transaction. The statement
    is built once per table and set of columns (once per turn it cost a third of a ms).
    """
    name = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    if "school_id" in table.c:
        values = {**values, "school_id": session.school_id}
    key = (name, table.name, tuple(values))
    insert = _INSERT_NEW.get(key)
    if insert is None:
        dialect = postgresql if name == "postgresql" else sqlite
        insert = dialect.insert(table).on_conflict_do_nothing().returning(sa.literal(1))
        _INSERT_NEW[key] = insert
    return session.execute(insert, values).first() is not None


def request_ids_since(session: SchoolSession, since: datetime) -> list[str]:
    table: sa.Table = ProcessedDelivery.__table__  # type: ignore[attr-defined]  # set by sqlmodel
    return list(session.execute(sa.select(table.c.key).where(table.c.at >= since)).scalars())


def first_request(session: SchoolSession, key: str, now: datetime) -> bool:
    """Record an inbound id; False if it was already handled (a retry or a duplicate)."""
    return insert_new(session, ProcessedDelivery, key=key, at=now)
