"""Legal hold: the owning team (DSL or SLT) keeps a case from disposal, with a reason.

Placing and lifting a hold are in the case's audit trail. The web workspace and
`schoolbot records hold/release` both come here, so the rules are the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import col

from bot.domain.cases import Actor, can_handle
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case

if TYPE_CHECKING:
    from bot.kernel.core import Kernel


class HoldRefused(Exception):
    """Why the hold can't change; safe to show the person who asked."""


def _case_for(kernel: Kernel, session: SchoolSession, ref: str, actor: Actor | None) -> Case:
    case = repo.case_by_ref(session, ref)
    if case is None or (actor is not None and not can_handle(kernel.pack, actor, case.team)):
        raise HoldRefused(f"There is no case {ref.upper()} for you to hold.")
    if case.disposed_at is not None:
        raise HoldRefused(f"{case.ref} has already been disposed of; only its tombstone is left.")
    return case


def place_hold(
    kernel: Kernel, ref: str, reason: str, by_key: str, by_name: str, *, actor: Actor | None
) -> str:
    """`actor` None is the server's own CLI (an administrator, like `schoolbot roles`)."""
    reason = reason.strip()
    if not reason:
        raise HoldRefused("Please give a reason for the hold, for example the court case.")
    with kernel.session() as session:
        case = _case_for(kernel, session, ref, actor)
        now = kernel.now()
        result = session.execute(
            sa.update(Case)
            .where(
                col(Case.school_id) == session.school_id,
                col(Case.id) == case.id,
                col(Case.held_at).is_(None),
            )
            .values(held_at=now, held_by=by_name[:130], hold_reason=reason[:1000])
            .execution_options(synchronize_session=False)
        )
        if repo.rowcount(result) != 1:
            return f"{case.ref} is already on legal hold. Nothing has changed."
        repo.audit(session, now, by_key, "case.hold", case.ref, by=by_name, reason=reason[:1000])
        session.commit()
        return f"{case.ref} is on legal hold: it will not be disposed of until the hold is lifted."


def release_hold(kernel: Kernel, ref: str, by_key: str, by_name: str, actor: Actor | None) -> str:
    with kernel.session() as session:
        case = _case_for(kernel, session, ref, actor)
        result = session.execute(
            sa.update(Case)
            .where(
                col(Case.school_id) == session.school_id,
                col(Case.id) == case.id,
                col(Case.held_at).isnot(None),
            )
            .values(held_at=None, held_by=None, hold_reason=None)
            .execution_options(synchronize_session=False)
        )
        if repo.rowcount(result) != 1:
            return f"{case.ref} is not on legal hold. Nothing has changed."
        repo.audit(session, kernel.now(), by_key, "case.hold_released", case.ref, by=by_name)
        session.commit()
        return (
            f"The legal hold on {case.ref} is lifted. It will be disposed of when its "
            "retention period ends."
        )
