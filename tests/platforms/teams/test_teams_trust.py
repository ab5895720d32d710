"""Two schools in one app over Teams (real HTTP against the fake Bot Connector): a message
in a team linked to a school is handled by that school's service, and a personal chat by
the school where the person holds a role."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot.app import TRUST_KEY
from bot.platforms.teams import schools
from tests.fakes.teams_client import TEAM, mention, running_bot, text_of
from tests.helpers import add_schools, grant, say

WORRYING = ["friend request", "1", "no", "{app}", "no", "yes", "odd messages", "no", "done"]


@pytest.mark.issue(25, 4)
async def test_4_a_team_linked_to_a_school_and_a_personal_chat_reach_that_school(
    database_url, clock, tmp_path, fake
):
    async with running_bot(database_url, "dukeries-academy", clock, tmp_path, fake) as teams:
        [kings_id] = add_schools(teams.service.engine, ("kings", "king-jamess-school"))
        with Session(teams.service.engine) as session:
            schools.link(session, schools.TEAM, TEAM, kings_id, by="cli:it", now=datetime.now(UTC))
            session.commit()
        kings = teams.server.app[TRUST_KEY].service_for(kings_id)
        grant(kings, "aad-dslb", "dsl", platform="teams")
        say(teams.service, "alice", *(line.format(app="instagram") for line in WORRYING))
        say(kings, "bob", *(line.format(app="facebook") for line in WORRYING))

        # In the team linked to King James's, its DSL may choose the channel: their role is
        # read in King James's records (in the Dukeries they hold none, and would be refused).
        reply = await mention(teams, "dslb", "general", "use this channel for dsl")
        assert "Done: new" in reply and "Only the" not in reply

        # A personal chat: the school where the person holds a role (King James's).
        await teams.say("dslb", "case FR-0001")
        own = text_of(teams.dms("dslb")[-1])
        assert "Facebook" in own and "Instagram" not in own
