"""The yearly feature's own queries."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.storage.tables import Case, OfficialAccount, PolicyRead, RoleAssignment


def known_people(session: Session) -> set[tuple[str, str]]:
    """Everyone the bot can message: role holders, reporters and account contacts."""
    people: set[tuple[str, str]] = set()
    for platform, user in session.exec(select(RoleAssignment.platform, RoleAssignment.user_id)):
        people.add((platform, user))
    for platform, user in session.exec(select(Case.platform, Case.reporter_id).distinct()):
        people.add((platform, user))
    for account in session.exec(select(OfficialAccount).where(OfficialAccount.status == "open")):
        for contact in account.contacts:
            platform, _, user = contact.partition(":")
            if user:
                people.add((platform, user))
    return people


def confirmation(session: Session, platform: str, user_id: str, year: int) -> PolicyRead | None:
    """This person's "I've read it" for that year's reminder, if they pressed it."""
    return session.exec(
        select(PolicyRead).where(
            PolicyRead.platform == platform,
            PolicyRead.user_id == user_id,
            PolicyRead.year == year,
        )
    ).first()
