"""Which school a Teams conversation belongs to: a team (or one channel of it) by the
`teams_school` table, a personal chat by the person's roles.

A trust's IT lead links each school's team with `schoolbot teams map-team` (a channel of a
trust-wide team with `map-channel`). A table rather than a setting: a trust has dozens of
teams and they change during the year; a command changes it for every instance at once,
with no restart, and the change is in the audit trail. Tenants, by contrast, are one or
two ids that change almost never, so they are a setting (tenants.py).

An unlinked team, a group chat and a personal chat are the first school's (school 1) for
now: roles are not yet held per school. When they are, `schools_of_person` reads them.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote, urlsplit

from botbuilder.schema import Activity
from sqlmodel import col, select

from bot.storage import repository as repo
from bot.storage.scoping import SchoolSession
from bot.storage.tables import TeamsSchool

DEFAULT_SCHOOL = 1
TEAM, CHANNEL = "team", "channel"
# A team's or channel's id as Teams shows it: "19:...@thread.tacv2" (older: @thread.skype).
TEAMS_ID = re.compile(r"19:[^\s/?#]{1,180}@thread\.(?:tacv2|skype)")


def teams_id_from(given: str) -> str | None:
    """The id in what was pasted: the id itself, or Teams' "Get link to team/channel" link
    (https://teams.microsoft.com/l/team/19%3a...%40thread.tacv2/conversations?...)."""
    text = given.strip()
    if text.lower().startswith("https://"):
        parts = urlsplit(text).path.split("/")
        text = unquote(parts[3]) if len(parts) > 3 and parts[1] == "l" else ""
    return text if TEAMS_ID.fullmatch(text) else None


def link(
    session: SchoolSession, kind: str, teams_id: str, school: int, *, by: str, now: datetime
) -> int | None:
    """Link a team or channel to `school`; returns the school it had before (None: none)."""
    row = session.get(TeamsSchool, (kind, teams_id))
    before = row.school_id if row else None
    if row is None:
        row = TeamsSchool(kind=kind, teams_id=teams_id, added_by=by, added_at=now)
    row.school_id, row.added_by, row.added_at = school, by, now
    session.add(row)
    repo.audit(session, now, by, f"teams.{kind}_linked", f"{kind}:{teams_id}", school=school)
    return before


def unlink(session: SchoolSession, teams_id: str, by: str, now: datetime) -> list[str]:
    """Forget the team's and the channel's links for this id; returns the kinds removed."""
    removed = []
    for kind in (TEAM, CHANNEL):
        row = session.get(TeamsSchool, (kind, teams_id))
        if row is not None:
            session.delete(row)
            repo.audit(session, now, by, f"teams.{kind}_unlinked", f"{kind}:{teams_id}")
            removed.append(kind)
    return removed


def links(session: SchoolSession) -> list[TeamsSchool]:
    return list(
        session.exec(
            select(TeamsSchool).order_by(col(TeamsSchool.school_id), col(TeamsSchool.teams_id))
        )
    )


def school_of_channel(session: SchoolSession, team: str | None, channel: str | None) -> int:
    """The channel's own link, else its team's, else the first school."""
    for kind, teams_id in ((CHANNEL, channel), (TEAM, team)):
        if teams_id:
            row = session.get(TeamsSchool, (kind, teams_id))
            if row is not None:
                return row.school_id
    return DEFAULT_SCHOOL


def schools_of_person(platform: str, user_id: str) -> set[int]:
    """The schools a person acts for in a personal chat. Roles are not per school yet, so
    everyone is the first school's; this is where their roles' schools will be read (in
    the turn's own transaction)."""
    del platform, user_id
    return {DEFAULT_SCHOOL}


def where_from(activity: Activity) -> tuple[str | None, str | None]:
    """(team id, channel id) of a channel activity, from Teams' channel data."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team, channel = data.get("team"), data.get("channel")
    team_id = team.get("id") if isinstance(team, dict) else None
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    channel_id = channel_id or data.get("teamsChannelId")
    return (
        team_id if isinstance(team_id, str) else None,
        channel_id if isinstance(channel_id, str) else None,
    )


def is_channel(activity: Activity) -> bool:
    return activity.conversation.conversation_type == "channel"


def schools_of_conversation(activity: Activity, user_id: str) -> set[int]:
    """The schools a button pressed outside a channel may act for (a channel's school is
    read from the database: `school_of_channel`)."""
    if activity.conversation.conversation_type == "personal":
        return schools_of_person("teams", user_id)
    return {DEFAULT_SCHOOL}  # a group chat: the bot works only in personal chats there
