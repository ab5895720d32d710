"""The yearly feature's own queries."""

from __future__ import annotations

from sqlmodel import select

from bot.storage.scoping import SchoolSession
from bot.storage.tables import Case, OfficialAccount, PolicyRead, RoleAssignment


def known_people(session: SchoolSession) -> set[tuple[str, str]]:
    """Everyone the bot can message: role holders, reporters and account contacts."""
    people: set[tuple[str, str]] = set()
    roles = select(RoleAssignment.platform, RoleAssignment.user_id).where(
        RoleAssignment.school_id == session.school_id
    )
    for platform, user in session.exec(roles):
        people.add((platform, user))
    reporters = select(Case.platform, Case.reporter_id).where(Case.school_id == session.school_id)
    for platform, user in session.exec(reporters.distinct()):
        people.add((platform, user))
    accounts = select(OfficialAccount).where(
        OfficialAccount.school_id == session.school_id, OfficialAccount.status == "open"
    )
    for account in session.exec(accounts):
        for contact in account.contacts:
            platform, _, user = contact.partition(":")
            if user:
                people.add((platform, user))
    return people


def confirmation(
    session: SchoolSession, platform: str, user_id: str, year: int
) -> PolicyRead | None:
    """This person's "I've read it" for that year's reminder, if they pressed it."""
    return session.exec(
        select(PolicyRead).where(
            PolicyRead.school_id == session.school_id,
            PolicyRead.platform == platform,
            PolicyRead.user_id == user_id,
            PolicyRead.year == year,
        )
    ).first()
