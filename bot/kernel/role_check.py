"""Which roles the pack's escalation needs but nobody holds, one line each.

An unacknowledged urgent alert goes to the deputy DSL; account requests wait for each
approval stage's role; comments go to SLT when a deadline passes. A role with no holder
means that step reaches nobody, so `schoolbot run` and `schoolbot roles list` say so; they
also name roles still held that the pack lacks (after switching packs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.policy import PolicyPack
from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession

if TYPE_CHECKING:
    from bot.kernel.core import Kernel


def needed_roles(pack: PolicyPack) -> dict[str, str]:
    """role key -> what goes unanswered without a holder. A team counts as one need."""
    lead = pack.lead_dsl_role
    deputies = [r for r in pack.roles_in_team("dsl") if r != lead]
    needs = {lead: "safeguarding alerts are seen by nobody"}
    if deputies:
        needs[" ".join(deputies)] = "urgent alerts nobody acknowledges can't be passed on"
    needs[" ".join(pack.roles_in_team("slt"))] = "overdue and press comments reach nobody in SLT"
    for stage in pack.accounts.stages:
        needs.setdefault(
            stage, "account requests wait at that approval stage with nobody to decide them"
        )
    return needs


def unfilled_roles(pack: PolicyPack, session: SchoolSession, school_flag: str = "") -> list[str]:
    held = {row.role for row in repo.all_roles(session)}
    lines = []
    for keys, consequence in needed_roles(pack).items():
        roles = keys.split()
        if held.intersection(roles):
            continue
        label = " or ".join(f"{pack.role_label(r)} ({r})" for r in roles)
        lines.append(
            f"Warning: nobody is {label}, so {consequence}. "
            f"Add someone: schoolbot roles add{school_flag} USER_ID {roles[0]}"
        )
    return lines


def roles_not_in_pack(pack: PolicyPack, session: SchoolSession, school_flag: str = "") -> list[str]:
    """Roles people still hold that this pack lacks (kept from a pack used before): they
    get nothing from them, and nobody is told unless this says so."""
    held = sorted({row.role for row in repo.all_roles(session)} - set(pack.roles))
    return [
        f"Warning: {role} is not a role in {pack.school.name}'s policy pack, so whoever "
        f"holds it gets nothing from it. Remove it: schoolbot roles remove{school_flag} USER_ID {role}"
        for role in held
    ]


def unfilled_role_lines(kernel: Kernel, school_flag: str = "") -> list[str]:
    """For the CLI: the warnings for this kernel's pack and database; `school_flag` (e.g.
    " --school kings") goes in the commands they suggest when the trust has several."""
    with kernel.session() as session:
        return roles_not_in_pack(kernel.pack, session, school_flag) + unfilled_roles(
            kernel.pack, session, school_flag
        )
