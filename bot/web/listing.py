"""The case list: the owning team's cases (with filters) and the person's own reports."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sqlmodel import col, select

from bot.domain.cases import Actor, CaseStatus, teams_of
from bot.features.cases.cards import status_label
from bot.kernel.core import Kernel
from bot.storage import repository as repo
from bot.storage.tables import Case, CaseTask
from bot.web.casefile import STATUS_WORDS, local_time

__all__ = ["STATUS_WORDS", "Filters", "Listed", "Rows", "cases_for", "local_time"]
LIMIT = 200


@dataclass(frozen=True)
class Filters:
    status: str = ""
    kind: str = ""
    urgent: bool = False
    overdue: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str], kinds: Collection[str]) -> Filters:
        status = query.get("status", "")
        kind = query.get("kind", "")
        return cls(
            status=status if status in {s.value for s in CaseStatus} else "",
            kind=kind if kind in kinds else "",
            urgent=query.get("urgent") == "1",
            overdue=query.get("overdue") == "1",
        )


@dataclass(frozen=True)
class Listed:
    ref: str
    kind: str
    status: str
    urgent: bool
    overdue: bool
    opened: str


@dataclass
class Rows:
    own: list[Listed] = field(default_factory=list)
    team: list[Listed] = field(default_factory=list)


def _listed(kernel: Kernel, case: Case, overdue: set[int], decided: dict[int, str]) -> Listed:
    return Listed(
        ref=case.ref,
        kind=kernel.registry.case_kind(case.kind).title,
        status=status_label(case, decided.get(case.id or 0)),  # Approved, as chat says
        urgent=case.urgent,
        overdue=case.id in overdue,
        opened=local_time(kernel.pack, case.created_at),
    )


def cases_for(kernel: Kernel, actor: Actor, filters: Filters) -> Rows:
    """Newest first. Team cases only for the teams this person is on right now."""
    rows = Rows()
    now = kernel.now()
    with kernel.session() as session:
        overdue_ids = set(
            session.exec(
                select(CaseTask.case_id).where(
                    col(CaseTask.school_id) == session.school_id,
                    col(CaseTask.done_at).is_(None),
                    col(CaseTask.due_at) < now,
                )
            )
        )
        own = session.exec(
            select(Case)
            .where(
                col(Case.school_id) == session.school_id,
                Case.platform == actor.platform,
                Case.reporter_id == actor.user_id,
            )
            .order_by(col(Case.created_at).desc(), col(Case.id).desc())
            .limit(LIMIT)
        )
        own_cases = list(own)
        decided = repo.approval_statuses(session, [c.id for c in own_cases if c.id])
        rows.own = [_listed(kernel, c, overdue_ids, decided) for c in own_cases]
        teams = teams_of(kernel.pack, actor)
        if not teams:
            return rows
        query = select(Case).where(
            col(Case.school_id) == session.school_id, col(Case.team).in_(sorted(teams))
        )
        if filters.status:
            query = query.where(Case.status == filters.status)
        if filters.kind:
            query = query.where(Case.kind == filters.kind)
        if filters.urgent:
            query = query.where(col(Case.urgent).is_(True))
        if filters.overdue:
            query = query.where(
                col(Case.id).in_(sorted(overdue_ids) or [-1]), Case.status != "closed"
            )
        query = query.order_by(col(Case.created_at).desc(), col(Case.id).desc()).limit(LIMIT)
        team_cases = list(session.exec(query))
        decided = repo.approval_statuses(session, [c.id for c in team_cases if c.id])
        rows.team = [_listed(kernel, c, overdue_ids, decided) for c in team_cases]
    return rows
