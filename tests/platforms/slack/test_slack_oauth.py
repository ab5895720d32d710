"""Slack installed with one click per school, over real HTTP against the fake Slack:
the install, the stored token, events routed per workspace, the refresh race, uninstalls."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from slack_bolt.context.async_context import AsyncBoltContext
from sqlmodel import Session, select

from bot.domain.messages import Message
from bot.kernel.work import UnitOfWork
from bot.platforms.slack.installations import (
    SlackInstallations,
    binding,
    map_workspace,
    now_utc,
    status_lines,
)
from bot.platforms.slack.oauth import SchoolAuthorize, install_link
from bot.platforms.slack.sends import HELD
from bot.platforms.slack.token_keys import Binding, TokenKeys, TokenLocked
from bot.platforms.slack.token_refresh import TokenRefresher
from bot.storage import db
from bot.storage import repository as repo
from bot.storage.tables import Outbox, SlackInstallation
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET, Workspace
from tests.fakes.slack_oauth_harness import (
    TOKEN_KEYS,
    adapter,
    dm,
    event_body,
    install,
    oauth_bot,
    send_event,
)
from tests.fakes.smtp_server import FakeMailServer
from tests.helpers import add_schools, grant

SCHOOL_A, SCHOOL_B = Workspace("TA", "Dukeries"), Workspace("TB", "King James's")
pytestmark = pytest.mark.issue(25, 3)


@pytest.fixture
async def fake():
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


def stored(bot, team: str) -> SlackInstallation:
    with Session(bot.service.engine) as session:
        return session.exec(
            select(SlackInstallation).where(SlackInstallation.team_key == team)
        ).one()


async def test_an_install_stores_an_encrypted_token_bound_to_its_school_on_postgresql(
    migrated_pg_url, clock, tmp_path, fake
):
    async with oauth_bot(migrated_pg_url, clock, tmp_path, fake) as bot:
        done = await install(bot, SCHOOL_A, school=3)
        assert done.status == 200  # bolt's success page
        [issued] = fake.oauth.tokens
        row = stored(bot, "TA")
        assert row.school_id == 3
        assert len(row.bot_token or "") > 200
        assert issued not in (row.bot_token or "")
        keys = TokenKeys(TOKEN_KEYS[:1])
        assert keys.open(row.bot_token or "", binding(row)) == issued
        with pytest.raises(TokenLocked):  # the same row copied to another school
            keys.open(row.bot_token or "", Binding(1, row.enterprise_key, row.team_key))

        # The school's staff talk to the bot: answered with that install's token.
        assert (await dm(bot, SCHOOL_A, "U1", "friend request", "Ev1")).status == 200
        [reply] = await fake.wait_for("chat.postMessage", channel="DU1")
        assert reply.token == issued

        # A link used twice, or one never handed out, installs nothing.
        again = await bot.http.get(
            bot.server.make_url("/slack/oauth_redirect?code=x&state=forged"),
            headers={"Cookie": "slack-app-oauth-state=forged"},
        )
        assert again.status == 401


async def test_events_from_two_workspaces_reach_their_own_schools(
    sqlite_url, clock, tmp_path, fake, caplog
):
    caplog.set_level(logging.INFO, logger="bot.platforms.slack.schools")
    async with oauth_bot(sqlite_url, clock, tmp_path, fake) as bot:
        await install(bot, SCHOOL_A, school=1)
        await install(bot, SCHOOL_B, school=2)
        token_a, token_b = list(fake.oauth.tokens)

        await dm(bot, SCHOOL_A, "UA", "friend request", "EvA")
        await dm(bot, SCHOOL_B, "UB", "friend request", "EvB")
        [to_a] = await fake.wait_for("chat.postMessage", channel="DUA")
        [to_b] = await fake.wait_for("chat.postMessage", channel="DUB")
        assert (to_a.token, to_b.token) == (token_a, token_b)
        assert "workspace TA, school 1" in caplog.text
        assert "workspace TB, school 2" in caplog.text

        # A workspace that never installed the app is not answered.
        await dm(bot, Workspace("TX"), "UX", "friend request", "EvX")
        assert not fake.called("chat.postMessage", channel="DUX")


async def test_three_instances_refresh_a_token_near_expiry_exactly_once(
    database_url, clock, tmp_path, fake
):
    """PostgreSQL: under a row lock; SQLite (three processes' worth of connections to one
    file): by compare-and-set."""
    fake.oauth.expires_in = 60  # inside the two hours before expiry when bolt refreshes
    async with (
        oauth_bot(database_url, clock, tmp_path, fake) as one,
        oauth_bot(database_url, clock, tmp_path, fake) as two,
        oauth_bot(database_url, clock, tmp_path, fake) as three,
    ):
        await install(one, SCHOOL_A)
        [first] = fake.oauth.tokens
        # Three events from the school at once, one to each instance.
        answers = await asyncio.gather(
            *(
                dm(bot, SCHOOL_A, f"U{n}", "friend request", f"Ev{n}")
                for n, bot in enumerate((one, two, three))
            )
        )
        assert [a.status for a in answers] == [200, 200, 200]
        replies = [
            (await fake.wait_for("chat.postMessage", channel=f"DU{n}", timeout=60))[0]
            for n in range(3)
        ]
        assert fake.oauth.refreshes == 1
        assert fake.oauth.refused_refreshes == 0
        [second] = [t for t in fake.oauth.tokens if t != first]
        assert {r.token for r in replies} == {second}

        # Eleven hours on, the token is near its expiry again, and three instances' send
        # loops each have a message for the school: one refresh between them.
        with Session(one.service.engine) as session:
            session.execute(
                sa.update(SlackInstallation).values(
                    bot_token_expires_at=now_utc() + timedelta(minutes=1)
                )
            )
            session.commit()
        bots = (one, two, three)
        routes = await asyncio.gather(*(adapter(bot).schools.route(1) for bot in bots))
        assert fake.oauth.refreshes == 2
        assert fake.oauth.refused_refreshes == 0
        with one.service.kernel.session() as session:
            for n in range(3):
                one.service.kernel.outbox.tell_user(session, "slack", f"UQ{n}", Message("hi"))
            session.commit()
        await asyncio.gather(*(adapter(bot).sends.flush() for bot in bots))
        sent = [(await fake.wait_for("chat.postMessage", channel=f"UQ{n}"))[0] for n in range(3)]
        assert fake.oauth.refreshes == 2
        [third] = [t for t in fake.oauth.tokens if t not in (first, second)]
        assert {s.token for s in sent} == {third}
        assert {route.client.token for route in routes if route} == {third}
        assert fake.oauth.refused_refreshes == 0


async def test_an_uninstall_holds_the_schools_sends_until_it_is_installed_again(
    database_url, clock, tmp_path, fake
):
    async with oauth_bot(database_url, clock, tmp_path, fake) as bot:
        await install(bot, SCHOOL_A)
        uninstalled = {"type": "app_uninstalled"}
        fake.oauth.revoke(SCHOOL_A)
        assert (await send_event(bot, event_body(SCHOOL_A, uninstalled, "EvU"))).status == 200
        assert "DISCONNECTED (uninstalled" in _status(bot)
        assert stored(bot, "TA").bot_token is None

        kernel = bot.service.kernel
        with kernel.session() as session:
            kernel.outbox.tell_user(session, "slack", "UDSL", Message("An urgent alert"))
            session.commit()
        await adapter(bot).sends.flush()
        assert not fake.called("chat.postMessage", channel="UDSL")
        with Session(bot.service.engine) as session:
            [held] = session.exec(select(Outbox).where(Outbox.target == "UDSL")).all()
        assert (held.status, held.last_error, held.attempts) == ("pending", HELD, 0)

        await install(bot, SCHOOL_A)  # the Slack admin installs it again
        [sent] = await fake.wait_for("chat.postMessage", channel="UDSL")
        assert "An urgent alert" in sent.args["text"]
        assert "Slack connected" in _status(bot)


async def test_revoking_only_an_installers_token_leaves_the_bot_connected(
    sqlite_url, clock, tmp_path, fake
):
    async with oauth_bot(sqlite_url, clock, tmp_path, fake) as bot:
        await install(bot, SCHOOL_A)
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["UINSTALLER1"], "bot": []}}
        await send_event(bot, event_body(SCHOOL_A, revoked, "EvR1"))
        assert "Slack connected" in _status(bot)
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTTA"]}}
        await send_event(bot, event_body(SCHOOL_A, revoked, "EvR2"))
        assert "DISCONNECTED (tokens revoked" in _status(bot)


def _status(bot) -> str:
    with Session(bot.service.engine) as session:
        return "\n".join(status_lines(session))


def test_the_installation_table_holds_long_tokens(migrated_pg_url):
    engine = sa.create_engine(migrated_pg_url)
    columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("slack_installation")}
    engine.dispose()
    for name in ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"):
        assert isinstance(columns[name], sa.Text)


async def test_an_org_wide_install_routes_each_workspace_to_its_mapped_school(
    sqlite_url, clock, tmp_path, fake, caplog
):
    caplog.set_level(logging.INFO, logger="bot.platforms.slack.schools")
    org = Workspace("", "Trust", enterprise_id="E1", org_wide=True)
    async with oauth_bot(sqlite_url, clock, tmp_path, fake) as bot:
        assert (await install(bot, org, school=4)).status == 200
        add_schools(bot.service.engine, ("school-5", None))
        with Session(bot.service.engine) as session:
            map_workspace(session, "E1", "T5", 5)
            session.commit()
        for team, user in (("T4", "UG4"), ("T5", "UG5")):
            workspace = Workspace(team, enterprise_id="E1")
            await dm(bot, workspace, user, "friend request", f"Ev{team}", org_wide=True)
            await fake.wait_for("chat.postMessage", channel=f"D{user}")
        assert "workspace T4, school 4" in caplog.text  # not mapped: the installing school's
        assert "workspace T5, school 5" in caplog.text


async def test_only_a_signed_unexpired_link_starts_an_install(sqlite_url, clock, tmp_path, fake):
    async with oauth_bot(sqlite_url, clock, tmp_path, fake) as bot:
        add_schools(bot.service.engine, ("school-2", None))
        now = time.time()
        good = install_link(CLIENT_SECRET, 2, now)
        for link in (
            "/slack/install?school=2",  # made up
            good.replace("school=2", "school=3"),  # another school's, by hand
            install_link("another-secret", 2, now),
            install_link(CLIENT_SECRET, 2, now - 15 * 86_400),  # expired
        ):
            refused = await bot.http.get(bot.server.make_url(link))
            assert refused.status == 403
            assert "Ask your trust's IT lead for a new one" in await refused.text()
        assert (await bot.http.get(bot.server.make_url(good))).status == 200
        no_such_school = install_link(CLIENT_SECRET, 40, time.time())
        refused = await bot.http.get(bot.server.make_url(no_such_school))
        assert refused.status == 404
        assert "isn't set up in the bot" in await refused.text()


async def test_a_code_slack_does_not_know_installs_nothing(
    sqlite_url, clock, tmp_path, fake, caplog
):
    caplog.set_level(logging.INFO)  # the level the bot logs the Slack SDKs at
    async with oauth_bot(sqlite_url, clock, tmp_path, fake) as bot:
        page = await bot.http.get(bot.server.make_url(install_link(CLIENT_SECRET, 1, time.time())))
        cookie = page.headers["Set-Cookie"].split(";")[0]
        state = cookie.split("=", 1)[1]
        refused = await bot.http.get(
            bot.server.make_url(f"/slack/oauth_redirect?code=made-up&state={state}"),
            headers={"Cookie": cookie},
        )
        assert refused.status == 401
        [exchange] = fake.called("oauth.v2.access")
        assert exchange.response == {"ok": False, "error": "invalid_code"}
        assert not fake.oauth.tokens
    assert "invalid_code" in caplog.text  # bolt's warning is there, without the code
    assert "made-up" not in caplog.text


async def test_a_refused_refresh_keeps_the_token_until_it_expires(
    sqlite_url, clock, tmp_path, fake, caplog
):
    fake.oauth.expires_in = 300
    async with oauth_bot(sqlite_url, clock, tmp_path, fake) as bot:
        await install(bot, SCHOOL_A)
        [token] = fake.oauth.tokens
        fake.oauth.forget_refresh_tokens()  # e.g. revoked by a workspace admin
        await dm(bot, SCHOOL_A, "U1", "friend request", "Ev1")
        [reply] = await fake.wait_for("chat.postMessage", channel="DU1")
        assert reply.token == token
        assert fake.oauth.refused_refreshes >= 1
        assert "could not be refreshed (invalid_refresh_token)" in caplog.text
        assert token not in caplog.text


async def test_the_headteacher_is_emailed_when_the_school_is_disconnected(
    sqlite_url, clock, tmp_path, fake
):
    mail = FakeMailServer(tmp_path).start()
    try:
        async with oauth_bot(sqlite_url, clock, tmp_path, fake, **mail.settings()) as bot:
            bot.service.outbox.emails = True  # as runtime.build_service does with SMTP_HOST
            grant(bot.service, "UHEAD", "principal", platform="slack")
            with bot.service.kernel.session() as session:
                repo.set_email(session, "slack", "UHEAD", "head@school.example")
                session.commit()
            await install(bot, SCHOOL_A, school=1)
            uninstalled = event_body(SCHOOL_A, {"type": "app_uninstalled"}, "EvU")
            await send_event(bot, uninstalled)
            [email] = await mail.wait_for(1)
        assert email.recipients == ["head@school.example"]
        assert email.message["Subject"] == "schoolbot: Slack is disconnected"
        text = email.part("plain")
        assert "alerts for your school are being held, not lost" in text
        assert "Open schoolbot" not in text  # not about a case: no way into the pages
    finally:
        mail.stop()


async def test_a_request_is_still_taken_while_the_database_is_down():
    """Its work (which needs the token) runs once the database is back; the ack can't wait."""
    nothing_listens = db.make_engine("postgresql+psycopg://bot@127.0.0.1:1/schoolbot")
    store = SlackInstallations(UnitOfWork(nothing_listens), TokenKeys(TOKEN_KEYS[:1]), CLIENT_ID)
    refresher = TokenRefresher(store, CLIENT_ID, CLIENT_SECRET, api_url="http://127.0.0.1:1/")
    authorize = SchoolAuthorize(refresher)
    result = await authorize(
        context=AsyncBoltContext(), enterprise_id=None, team_id="TA", user_id="U1"
    )
    assert result is not None
    assert (result.team_id, result.user_id, result.bot_token) == ("TA", "U1", None)
