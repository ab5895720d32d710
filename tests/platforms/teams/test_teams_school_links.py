"""`schoolbot teams map-team / map-channel / unmap / list`, run as the IT lead runs them
(a real `schoolbot` process on the bot's database), and what a running bot makes of them:
a button pressed in a team linked to another school is refused, with no restart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from bot.platforms.teams import presses, schools
from bot.platforms.teams.schools import teams_id_from
from bot.storage import db
from bot.storage.tables import AuditEvent
from tests.fakes.teams_client import TEAM, channel_id, running_bot
from tests.helpers import fresh_shell_env, grant, run_schoolbot, schools_up_to
from tests.platforms.teams.test_teams_channels_and_package import dsl_alert
from tests.platforms.teams.test_teams_signed_buttons import acknowledged, button, press

TEAM_LINK = (
    "https://teams.microsoft.com/l/team/19%3ageneral%40thread.tacv2/conversations"
    "?groupId=5f1c&tenantId={tenant}"
)


@pytest.mark.issue(25, 4)
def test_a_team_is_named_by_its_id_or_the_link_teams_gives():
    assert teams_id_from(TEAM) == TEAM
    assert teams_id_from(TEAM_LINK.format(tenant="t")) == TEAM
    channel = "https://teams.microsoft.com/l/channel/19%3adsl%40thread.tacv2/DSL?groupId=5f1c"
    assert teams_id_from(channel) == channel_id("dsl")
    for wrong in (
        "",
        "general",
        "19:general",
        "https://example.org/l/team/x/y",
        "19:a b@thread.tacv2",
    ):
        assert teams_id_from(wrong) is None


@pytest.mark.issue(25, 4)
async def test_the_it_lead_links_a_team_to_a_school_and_a_running_bot_follows(
    sqlite_url, clock, tmp_path, fake
):
    env = fresh_shell_env(tmp_path, DATABASE_URL=sqlite_url, MicrosoftAppTenantId="tenant-0001")
    unknown = run_schoolbot(tmp_path, env, "teams", "map-team", TEAM, "2")
    assert unknown.returncode == 1
    assert "There is no school 2. See `schoolbot schools list`" in unknown.stderr
    schools_up_to(db.make_engine(sqlite_url), 2)
    listed = run_schoolbot(tmp_path, env, "teams", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Tenants accepted (MicrosoftAppTenantId): tenant-0001" in listed.stdout
    assert "No team is linked to a school" in listed.stdout

    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_DSL_CHANNEL=channel_id("dsl")
    ) as teams:
        grant(teams.service, "aad-dsl", "dsl", platform="teams")
        schools_up_to(teams.service.engine, 2)
        alert = await dsl_alert(teams)

        # Pasted from Teams' "Get link to team", from a tenant the bot doesn't accept: linked,
        # with a note saying the bot refuses that tenant.
        mapped = run_schoolbot(
            tmp_path, env, "teams", "map-team", TEAM_LINK.format(tenant="other"), "2"
        )
        assert mapped.returncode == 0, mapped.stderr
        assert f"The team {TEAM} now belongs to school 2" in mapped.stdout
        assert "isn't in TEAMS_TENANTS" in mapped.stderr
        assert presses.OTHER_SCHOOL["team"] in await press(
            teams, alert, button(alert, "Acknowledge")
        )
        assert acknowledged(teams) is None

        mapped = run_schoolbot(tmp_path, env, "teams", "map-channel", channel_id("dsl"), "1")
        assert mapped.returncode == 0, mapped.stderr
        listed = run_schoolbot(tmp_path, env, "teams", "list")
        assert f"school 1    channel  {channel_id('dsl')}" in listed.stdout
        assert f"school 2    team     {TEAM}" in listed.stdout
        assert "acknowledged FR-0001" in await press(teams, alert, button(alert, "Acknowledge"))

    unmapped = run_schoolbot(tmp_path, env, "teams", "unmap", TEAM)
    assert unmapped.returncode == 0 and "it is school 1's now" in unmapped.stdout
    again = run_schoolbot(tmp_path, env, "teams", "unmap", TEAM)
    assert "had no school link; nothing has changed" in again.stdout
    for args in (("map-team", "general", "2"), ("map-team", TEAM, "0")):
        refused = run_schoolbot(tmp_path, env, "teams", *args)
        assert refused.returncode == 2 and "Error" in refused.stderr  # click's usage error


@pytest.mark.issue(25, 4)
def test_links_are_kept_on_sqlite_and_postgresql(database_url):
    engine = db.make_engine(database_url)
    schools_up_to(engine, 4)
    now = datetime.now(UTC)
    dsl = channel_id("dsl")
    with Session(engine) as session:
        assert schools.school_of_channel(session, TEAM, dsl) == schools.DEFAULT_SCHOOL
        assert schools.link(session, schools.TEAM, TEAM, 2, by="cli:it", now=now) is None
        assert schools.link(session, schools.TEAM, TEAM, 3, by="cli:it", now=now) == 2
        schools.link(session, schools.CHANNEL, TEAM, 4, by="cli:it", now=now)  # General
        session.commit()
    with Session(engine) as session:
        assert schools.school_of_channel(session, TEAM, dsl) == 3
        assert schools.school_of_channel(session, TEAM, TEAM) == 4  # the channel's own link
        assert [(r.kind, r.school_id) for r in schools.links(session)] == [
            ("team", 3),
            ("channel", 4),
        ]
        assert schools.unlink(session, TEAM, by="cli:it", now=now) == ["team", "channel"]
        session.commit()
        assert schools.school_of_channel(session, TEAM, TEAM) == schools.DEFAULT_SCHOOL
        trail = session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))).all()
    assert trail == [
        "teams.team_linked",
        "teams.team_linked",
        "teams.channel_linked",
        "teams.team_unlinked",
        "teams.channel_unlinked",
    ]
    engine.dispose()
