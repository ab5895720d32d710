"""Exact crash records: a malformed request that can't spoil the
others' records, failed work retried then reported, and quiet logs while the database is
down. The repeated-kill test on real processes is in tests/system/test_crash_recovery.py."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.app import create_app
from bot.config import Settings
from bot.dispatch import BotService
from bot.intake.journal import IntakeJournal
from bot.intake.lines import IntakeQueue, IntakeRecord
from bot.intake.spool import Spool
from bot.platforms.slack.sends import SlackSendLoop
from bot.storage import db
from bot.storage.tables import IntakeRequest
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack
from tests.fakes.slack_harness import SECRET, Bot, dm_event
from tests.fakes.teams_client import TeamsClient
from tests.helpers import make_service


def recorded(service: BotService) -> list[IntakeRequest]:
    with service.kernel.session() as session:
        return list(session.exec(select(IntakeRequest)).all())


# --- the ack waits for the record; a restart never re-sends what Slack has ----------------


@pytest.mark.issue(11, 1)
async def test_an_acknowledged_request_is_recorded_before_its_ack(database_url, clock, tmp_path):
    """Slack won't resend what it had an answer for: the record must exist by then."""
    service = make_service(database_url, "default", clock, tmp_path)
    work = IntakeQueue("test", journal=IntakeJournal(service.intake, "slack"))
    never = asyncio.Event()

    async def hangs(_: dict, _request: IntakeRecord) -> None:
        await never.wait()

    work.handler("job", hangs)
    await work.start()
    await work.submit("U1", "job", {"text": "hello"})  # returns when it may be acknowledged
    other = make_service(database_url, "default", clock, tmp_path)  # what a restart would see
    assert [r.payload for r in recorded(other)] == [{"text": "hello"}]
    await work.stop(timeout=0)
    service.engine.dispose()
    other.engine.dispose()


# --- one malformed request can't cost the others their records ----------------------------


@pytest.mark.issue(11, 2)
async def test_a_malformed_request_beside_a_dm_keeps_the_dm_recorded(
    database_url, clock, tmp_path, caplog
):
    service = make_service(database_url, "default", clock, tmp_path)
    work = IntakeQueue("test", journal=IntakeJournal(service.intake, "slack"))
    never = asyncio.Event()
    ran: list[object] = []

    async def hangs(p: dict, request: IntakeRecord) -> None:
        ran.append(p["n"])
        await never.wait()

    work.handler("message", hangs)
    await work.start()
    with caplog.at_level(logging.WARNING):
        await asyncio.gather(  # all in one batch of the journal
            work.submit("UGOOD", "message", {"n": "good"}),
            work.submit(None, "message", {"n": "null"}),  # type: ignore[arg-type]
            work.submit(["U1"], "message", {"n": "list"}),  # type: ignore[arg-type]
            work.submit(10**30, "message", {"n": "huge"}),  # type: ignore[arg-type]
            work.submit("U\x00NUL", "message", {"n": "nul"}),  # PostgreSQL can't store it
            work.submit("UOTHER", "message", {"n": "other"}),
        )
        for _ in range(20):
            await asyncio.sleep(0)
    people = {r.person for r in recorded(service)}
    assert {"UGOOD", "UOTHER"} <= people
    assert {"good", "other", "nul"} <= set(ran)  # the storable-but-odd one still runs
    assert not {"null", "list", "huge"} & set(ran)  # nobody to answer: ignored, said so
    assert "ignored a malformed message request" in caplog.text
    await work.stop(timeout=0)
    service.engine.dispose()


@pytest.mark.issue(11, 2)
async def test_a_signed_event_with_no_user_beside_a_dm_over_http(bot, caplog):
    bad = dm_event("UX", "hello", "EvBad", "1.0")
    bad["event"]["user"] = None
    with caplog.at_level(logging.WARNING):
        responses = await asyncio.gather(
            bot.post(json.dumps(bad), "application/json"),
            bot.dm("UJANE", "a pupil sent me a friend request"),
        )
        # The malformed one is refused at the door (400) or dropped; the DM goes through.
        assert responses[0].status in (200, 400) and responses[1].status == 200
        await bot.fake.wait_for("chat.postMessage", channel="DUJANE")
    assert "not recorded" not in caplog.text
    assert "write failed" not in caplog.text


# --- failed work is retried a bounded number of times, then reported -----------------------


@pytest.mark.issue(11, 11)
async def test_a_request_whose_work_fails_is_tried_again(database_url, clock, tmp_path):
    service = make_service(database_url, "default", clock, tmp_path)
    work = IntakeQueue("test", journal=IntakeJournal(service.intake, "slack"), retry_after=0)
    attempts: list[IntakeRecord] = []
    finished = asyncio.Event()

    async def flaky(_: dict, request: IntakeRecord) -> None:
        attempts.append(request)
        if len(attempts) == 1:
            raise ConnectionError("Slack went away for a moment")
        finished.set()

    work.handler("job", flaky)
    await work.start()
    await work.submit("U1", "job", {})
    await asyncio.wait_for(finished.wait(), 10)
    await work.stop()
    assert len(attempts) == 2
    assert attempts[1].id == attempts[0].id and attempts[1].rerun_of is not None
    assert recorded(service) == []
    service.engine.dispose()


@pytest.mark.issue(11, 11)
async def test_work_that_keeps_failing_is_reported_not_stranded(
    database_url, clock, tmp_path, caplog
):
    service = make_service(database_url, "default", clock, tmp_path)
    work = IntakeQueue("test", journal=IntakeJournal(service.intake, "slack"), retry_after=0)
    attempts: list[int] = []

    async def broken(_: dict, _request: IntakeRecord) -> None:
        attempts.append(1)
        raise KeyError("channel")

    work.handler("job", broken)
    await work.start()
    with caplog.at_level(logging.ERROR):
        await work.submit("U1", "job", {})
        for _ in range(500):
            if "gave up on a job request after 3 attempts" in caplog.text:
                break
            await asyncio.sleep(0.01)  # the retries run on the event loop
        await work.stop()
    assert len(attempts) == 3
    assert "gave up on a job request after 3 attempts" in caplog.text
    assert recorded(service) == []
    service.engine.dispose()


# --- a database outage is a few lines in the log, not a traceback every 2 s ---------------


@pytest.mark.issue(11, 11)
async def test_the_send_loop_says_once_a_minute_that_the_database_is_down(tmp_path, clock, caplog):
    url = f"sqlite:///{tmp_path / 'later' / 'bot.db'}"  # no tables yet: every call fails
    service = make_service(url, "default", clock, tmp_path / "evidence")
    fake = await FakeSlack().start()
    sends = SlackSendLoop(
        service.kernel, AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url), {}
    )
    try:
        with caplog.at_level(logging.INFO):
            for _ in range(31):  # a minute of passes, 2 s apart
                await sends.send_once()
                clock.advance(seconds=2)
            outage = [r for r in caplog.records if "database" in r.getMessage()]
            assert [r.getMessage() for r in outage] == [
                "slack sends: can't reach the database (OperationalError); queued messages "
                "wait until it is back",
                "slack sends: still can't reach the database (1 min)",
            ]
            assert not any(r.exc_info for r in caplog.records)  # no tracebacks

            (tmp_path / "later").mkdir(exist_ok=True)  # the database is back
            db.upgrade(url)
            await sends.send_once()
            await sends.send_once()
        assert caplog.text.count("the database is back") == 1
    finally:
        service.engine.dispose()
        await fake.close()


# --- a slow Teams connector holds up nobody on Slack --------------------------------------


@pytest.mark.issue(11, 9)
async def test_a_slow_teams_connector_does_not_stall_slack_replies(
    sqlite_url, clock, tmp_path, fake
):
    """Two Teams replies wait on a connector taking 8 s; meanwhile a Slack DM is answered
    (database turns don't queue behind Teams' network calls for a thread)."""
    slack = await FakeSlack().start()
    service = make_service(sqlite_url, "default", clock, tmp_path / "evidence")
    settings = Settings(
        **fake.settings,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        SCHOOLBOT_DATA_DIR=tmp_path,
    )
    server = TestServer(create_app(service, settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            teams = TeamsClient(server, service, fake, http)
            bot = Bot(server, service, slack, http)
            await teams.say("ada", "hello")  # a first turn: the bot's token is fetched
            fake.slow.set()
            waiting = [asyncio.create_task(teams.say(user, "hello")) for user in ("bo", "cy")]
            for _ in range(500):  # both replies are now held by the slow connector
                if fake.waiting >= 2:
                    break
                await asyncio.sleep(0.01)  # the fake connector runs in its own thread
            assert fake.waiting >= 2
            assert (await bot.dm("UJANE", "a pupil sent me a friend request")).status == 200
            await slack.wait_for("chat.postMessage", channel="DUJANE", timeout=5)
            assert not teams.dms("bo") and not teams.dms("cy")  # Slack did not wait for them
            fake.slow.clear()
            await asyncio.gather(*waiting)
            assert teams.dms("bo") and teams.dms("cy")
    finally:
        fake.slow.clear()
        await server.close()
        await slack.close()
        service.engine.dispose()


@pytest.mark.issue(11, 1)
async def test_a_spooled_request_survives_a_kill_before_its_database_row(tmp_path, clock):
    """The ack goes out once the request is in the local spool. Here its database write
    fails (the database is not there yet) and the process stops without finishing it,
    like a kill: the next start writes it to the database and runs it."""
    url = f"sqlite:///{tmp_path / 'later' / 'bot.db'}"
    first = make_service(url, "default", clock, tmp_path / "evidence")
    crashed = IntakeQueue(
        "test", journal=IntakeJournal(first.intake, "slack", Spool(tmp_path, "slack"))
    )
    never = asyncio.Event()

    async def hangs(_: dict, _request: IntakeRecord) -> None:
        await never.wait()

    crashed.handler("job", hangs)
    await crashed.start()
    await crashed.submit("U1", "job", {"text": "hello"})  # acknowledged
    await crashed.stop(timeout=0.2)  # nothing finished, nothing in the database
    first.engine.dispose()

    (tmp_path / "later").mkdir(exist_ok=True)
    db.upgrade(url)
    second = make_service(url, "default", clock, tmp_path / "evidence")
    again = IntakeQueue(
        "test", journal=IntakeJournal(second.intake, "slack", Spool(tmp_path, "slack"))
    )
    done: list[dict] = []
    finished = asyncio.Event()

    async def job(p: dict, _request: IntakeRecord) -> None:
        done.append(p)
        finished.set()

    again.handler("job", job)
    await again.start(recover_every=3600)
    await asyncio.wait_for(finished.wait(), 10)
    await again.stop()
    assert done == [{"text": "hello"}]
    assert recorded(second) == []
    assert (tmp_path / "slack.spool").read_bytes() == b""  # what they wrote is not kept

    third = IntakeQueue(
        "test", journal=IntakeJournal(second.intake, "slack", Spool(tmp_path, "slack"))
    )
    third.handler("job", job)
    await third.start(recover_every=3600)  # nothing is left to run a second time
    await third.stop()
    assert done == [{"text": "hello"}]
    second.engine.dispose()
