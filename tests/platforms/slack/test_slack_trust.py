"""Two schools with different packs served by one app from one database, over real HTTP
against the fake Slack: each workspace's reports reach its own school's service, are
guided by its own pack, numbered in its own school and alerted with its own token."""

from __future__ import annotations

import pytest

from bot.app import TRUST_KEY
from tests.fakes.fake_slack import FakeSlack, blocks_text
from tests.fakes.fake_slack_oauth import Workspace
from tests.fakes.slack_harness import Bot
from tests.fakes.slack_oauth_harness import dm, install, oauth_bot
from tests.helpers import add_schools, grant

DUKERIES, KINGS = Workspace("TA", "Dukeries"), Workspace("TB", "King James's")
WORRYING = ["1", "no", "{app}", "no", "yes", "he sent odd messages", "no", "done"]


@pytest.fixture
async def fake():
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


async def say(bot: Bot, workspace: Workspace, user: str, *lines: str) -> str:
    """Each line as a DM from `user` in `workspace`, waiting for each answer; the last."""
    for line in lines:
        before = len(bot.fake.called("chat.postMessage", channel=f"D{user}"))
        bot._events += 1
        answer = await dm(bot, workspace, user, line, f"Ev{workspace.team_id}{bot._events}")
        assert answer.status == 200
        await bot.fake.wait_for("chat.postMessage", before + 1, channel=f"D{user}")
    return blocks_text(bot.fake.called("chat.postMessage", channel=f"D{user}")[-1])


@pytest.mark.issue(25, 1)
async def test_two_schools_packs_references_and_cases_stay_their_own(
    database_url, clock, tmp_path, fake
):
    async with oauth_bot(database_url, clock, tmp_path, fake) as bot:
        [kings] = add_schools(bot.service.engine, ("kings", "king-jamess-school"))
        await install(bot, DUKERIES, school=1)
        await install(bot, KINGS, school=kings)
        token_a, token_b = list(fake.oauth.tokens)
        trust = bot.server.app[TRUST_KEY]
        grant(trust.service_for(1), "UDSLA", "dsl", platform="slack")
        grant(trust.service_for(kings), "UDSLB", "dsl", platform="slack")
        assert (
            trust.service_for(kings).kernel.pack.school.name != bot.service.kernel.pack.school.name
        )

        told_a = await say(
            bot,
            DUKERIES,
            "UA",
            "friend request",
            *(line.format(app="instagram") for line in WORRYING),
        )
        told_b = await say(
            bot, KINGS, "UB", "friend request", *(line.format(app="facebook") for line in WORRYING)
        )
        # Each school's own guidance, with its own policy's paragraph numbers.
        assert "Your reference is FR-0001" in told_a and "Your reference is FR-0001" in told_b
        assert "(Policy 5.4)" in told_a and "(Policy 2.9)" not in told_a
        assert "(Policy 2.9)" in told_b and "(Policy 5.4)" not in told_b

        # Each alert in its school's DSL channel, posted with its school's own token.
        alerts = await fake.wait_for("chat.postMessage", 2, channel="CDSL")
        by_token = {alert.token: blocks_text(alert) for alert in alerts}
        assert set(by_token) == {token_a, token_b}
        assert "FR-0001" in by_token[token_a] and "FR-0001" in by_token[token_b]

        # A's DSL sees A's case under FR-0001, never B's; B's DSL has no case in A.
        case_a = await say(bot, DUKERIES, "UDSLA", "case FR-0001")
        assert "Instagram" in case_a and "Facebook" not in case_a
        case_b = await say(bot, KINGS, "UDSLB", "case FR-0001")
        assert "Facebook" in case_b and "Instagram" not in case_b
        assert "can't find a case FR-0001" in await say(bot, DUKERIES, "UDSLB", "case FR-0001")


@pytest.mark.issue(25, 1)
async def test_the_scheduler_chases_each_schools_unfinished_reports_with_its_token(
    sqlite_url, clock, tmp_path, fake
):
    """The running scheduler's tick sweeps every school, and a school added after the start
    is picked up by it: its reminder goes out from its own send loop with its own token."""
    async with oauth_bot(sqlite_url, clock, tmp_path, fake, SCHOOLBOT_TICK_SECONDS="0.2") as bot:
        await install(bot, DUKERIES, school=1)
        [kings] = add_schools(bot.service.engine, ("kings", "king-jamess-school"))
        await install(bot, KINGS, school=kings)
        token_a, token_b = list(fake.oauth.tokens)
        await say(bot, DUKERIES, "UA", "friend request", "1")
        await say(bot, KINGS, "UB", "friend request", "1")
        clock.advance(hours=3)
        # Sent by the outbox to the person (Slack opens the DM), not as a reply in the DM.
        [chase_a] = await fake.wait_for("chat.postMessage", channel="UA")
        [chase_b] = await fake.wait_for("chat.postMessage", channel="UB")
        assert (chase_a.token, chase_b.token) == (token_a, token_b)
        assert "friend" in blocks_text(chase_b).lower()
        assert [s.work.school_id for s in bot.server.app[TRUST_KEY].services] == [1, kings]
