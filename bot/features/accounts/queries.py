"""The accounts feature's own queries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.storage.repository import rowcount
from bot.storage.scoping import SchoolSession
from bot.storage.tables import Approval, ApprovalDecision


def rejection_reason(session: SchoolSession, approval_id: int) -> str | None:
    row = session.exec(
        select(ApprovalDecision.reason).where(
            ApprovalDecision.school_id == session.school_id,
            ApprovalDecision.approval_id == approval_id,
            col(ApprovalDecision.approve).is_(False),
        )
    ).first()
    return row


def advance_approval(
    session: SchoolSession, approval_id: int, expected_stage: int, values: dict[str, Any]
) -> bool:
    result = session.execute(
        sa.update(Approval)
        .where(
            col(Approval.school_id) == session.school_id,
            col(Approval.id) == approval_id,
            col(Approval.current) == expected_stage,
            col(Approval.status) == "pending",
        )
        .values(**values)
    )
    return rowcount(result) == 1
