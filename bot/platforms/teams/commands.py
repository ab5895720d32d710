"""`schoolbot teams ...`: the Teams platform's own commands, added to the CLI through its
Platform declaration, so the CLI names no platform."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import click

from bot.config import Settings
from bot.domain.schools import FIRST_SCHOOL
from bot.storage.schools import find_school
from bot.storage.scoping import SchoolSession


@click.group(name="teams")
def teams() -> None:
    """Microsoft Teams."""


@teams.command("package")
@click.option(
    "--out",
    default="schoolbot-teams.zip",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the zip.",
)
def teams_package(out: str) -> None:
    """Build the Teams app zip (manifest + icons) from MicrosoftAppId and TEAMS_APP_DOMAIN."""
    from bot.platforms.teams.package import PackageError, build_package

    try:
        path = build_package(Settings(), Path(out))
    except PackageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {path}. Upload it in Teams: Apps > Manage your apps > Upload an app.")


# --- which school each team belongs to (schools.py) --------------------------------------

TEAMS_ID_HELP = (
    "a team's or channel's id (19:...@thread.tacv2), or the link Teams gives with "
    "'Get link to team' / 'Get link to channel'"
)
SCHOOL_ID = click.IntRange(min=1, max=2**31 - 1)


def _session() -> SchoolSession:
    """A session on the bot's own database (brought up to date first, as `run` does). The
    team links are the trust's routing, so the first school's session reads them all."""
    from bot.storage import db

    url = Settings().resolved_database_url
    db.upgrade(url)
    return SchoolSession(db.make_engine(url), school_id=FIRST_SCHOOL)


def _teams_id(given: str) -> str:
    from bot.platforms.teams.schools import teams_id_from

    found = teams_id_from(given)
    if found is None:
        raise click.BadParameter(f"that isn't {TEAMS_ID_HELP}.", param_hint="ID")
    tenant = parse_qs(urlsplit(given.strip()).query).get("tenantId", [""])[0]
    if tenant:
        from bot.platforms.teams.tenants import TenantAllowList

        if tenant.lower() not in TenantAllowList.from_settings(Settings()).tenants:
            click.echo(
                f"Note: that link is from tenant {tenant}, which isn't in TEAMS_TENANTS (or "
                "MicrosoftAppTenantId), so the bot refuses everything from it.",
                err=True,
            )
    return found


def _link(kind: str, given: str, school: int) -> None:
    from bot.platforms.teams import schools

    teams_id = _teams_id(given)
    with _session() as session:
        if find_school(session, str(school)) is None:
            raise click.ClickException(
                f"There is no school {school}. See `schoolbot schools list`, or add it with "
                "`schoolbot schools add`."
            )
        before = schools.link(
            session, kind, teams_id, school, by=f"cli:{getpass.getuser()}", now=datetime.now(UTC)
        )
        session.commit()
    was = f"it was school {before}'s" if before else "before, it was the first school's"
    click.echo(f"The {kind} {teams_id} now belongs to school {school} ({was}).")


@teams.command("map-team")
@click.argument("team_id")
@click.argument("school_id", type=SCHOOL_ID)
def teams_map_team(team_id: str, school_id: int) -> None:
    """Make the Teams team TEAM_ID (its id, or its 'Get link to team' link) school
    SCHOOL_ID's: buttons pressed in its channels act only on that school's records."""
    _link("team", team_id, school_id)


@teams.command("map-channel")
@click.argument("channel_id")
@click.argument("school_id", type=SCHOOL_ID)
def teams_map_channel(channel_id: str, school_id: int) -> None:
    """Make one channel school SCHOOL_ID's, whatever its team's school (a trust-wide team
    with a channel for each school)."""
    _link("channel", channel_id, school_id)


@teams.command("unmap")
@click.argument("teams_id")
def teams_unmap(teams_id: str) -> None:
    """Remove the school link of a team or channel: it is the first school's again."""
    from bot.platforms.teams import schools

    found = _teams_id(teams_id)
    with _session() as session:
        removed = schools.unlink(
            session, found, by=f"cli:{getpass.getuser()}", now=datetime.now(UTC)
        )
        session.commit()
    if removed:
        click.echo(f"Removed the {' and '.join(removed)} link of {found}: it is school 1's now.")
    else:
        click.echo(f"{found} had no school link; nothing has changed.")


@teams.command("list")
def teams_list() -> None:
    """The tenants the bot accepts, and which school each linked team or channel is."""
    from bot.platforms.teams import schools
    from bot.platforms.teams.tenants import TenantAllowList

    settings = Settings()
    allowed = TenantAllowList.from_settings(settings)
    source = "TEAMS_TENANTS" if settings.teams_tenants else "MicrosoftAppTenantId"
    if allowed.tenants:
        click.echo(f"Tenants accepted ({source}): {', '.join(sorted(allowed.tenants))}")
    else:
        click.echo("Tenants accepted: none. Set TEAMS_TENANTS to your trust's tenant id.")
    with _session() as session:
        rows = schools.links(session)
    for row in rows:
        added = row.added_at.date().isoformat()
        click.echo(
            f"school {row.school_id:<4} {row.kind:8} {row.teams_id}  ({row.added_by}, {added})"
        )
    click.echo(
        "Every other team, group chat and personal chat: school 1."
        if rows
        else "No team is linked to a school: every team and chat is school 1's."
    )
