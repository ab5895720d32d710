"""Acknowledging an escalating alert outside chat stops the ladder (issue 26, point 1):
pressing Acknowledge in the web workspace, and following the email's one-time link and
acknowledging there. Everything over real HTTP: our aiohttp app is served, a client signs
in and posts the form; the email is the one a local SMTP server (aiosmtpd) received, and its
link is followed as written. The clock is the tests' FakeClock; no level fires after.

The clock starts on Saturday 21 November 2026, 15:00 GMT. The default pack's urgent ladder:
mention at 15:30, the deputy at 16:00, email the DSL team at 16:15, the Headteacher at 16:45.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import RedactingAccessLogger, create_app
from bot.config import Settings
from bot.dispatch import BotService
from bot.platforms.email.sends import EmailSendLoop
from bot.platforms.email.server import MailServer, MailSettings
from bot.storage import repository as repo
from bot.storage.tables import Outbox, Reminder
from bot.web.access import WebAccess
from tests.fakes.smtp_server import FakeMailServer
from tests.fakes.workspace_harness import csrf_of
from tests.helpers import FakeClock, grant, make_service, report_fr

ADDRESSES = {
    "dsl1": "dsl@school.example",
    "dep": "deputy@school.example",
    "head": "head@school.example",
}
LEVELS_AFTER_THE_MENTION = ("case.deputy", "case.email", "case.head")


@asynccontextmanager
async def served_school(url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[tuple]:
    """Our app served on loopback; the DSL, deputy and Headteacher, each with an address;
    email on; the workspace's links pointing at the served app."""
    service = make_service(url, "default", clock, tmp_path / "evidence")
    for user, role in (("dsl1", "dsl"), ("dep", "deputy_dsl"), ("head", "headteacher")):
        grant(service, user, role)
    with service.kernel.session() as session:
        for user, address in ADDRESSES.items():
            repo.set_email(session, "console", user, address)
        session.commit()
    service.outbox.emails = True
    access = WebAccess(service.kernel, "http://127.0.0.1")
    service.outbox.web = access
    server = TestServer(create_app(service))
    await server.start_server(access_log_class=RedactingAccessLogger)
    access.public_url = str(server.make_url("")).rstrip("/")
    try:
        yield service, access, server
    finally:
        await server.close()
        service.engine.dispose()


def urgent_report(service: BotService) -> None:
    reply = report_fr(service, "yes")  # a worry in their words: urgent, for the DSL
    assert "Your reference is FR-0001" in reply, reply


def rows(service: BotService) -> list[Outbox]:
    with service.kernel.session() as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)))  # type: ignore[arg-type]


def fired(service: BotService) -> list[tuple[str, str]]:
    """What the ladder has queued so far: ("still", channel or person) and ("email", who)."""
    out = []
    for row in rows(service):
        if row.platform == "email":
            out.append(("email", row.target))
        elif (row.message.get("title") or "").startswith("Still"):
            out.append(("still", row.target))
    return out


def outcomes(service: BotService) -> dict[str, str | None]:
    with service.kernel.session() as session:
        return {
            r.kind: r.outcome for r in session.exec(select(Reminder)) if r.kind.startswith("case.")
        }


async def acknowledge_on_the_page(http: aiohttp.ClientSession, page_url: str) -> str:
    """Press the case page's Acknowledge button as a browser would; the page it lands on."""
    async with http.get(page_url) as response:
        assert response.status == 200
        page = await response.text()
    assert 'action="/web/cases/FR-0001/acknowledge"' in page, "no Acknowledge button"
    async with http.post(f"{page_url}/acknowledge", data={"csrf": csrf_of(page)}) as response:
        assert response.status == 200
        return await response.text()


async def press_sign_in(
    http: aiohttp.ClientSession, link: str, *, origin: str, ok: bool = True
) -> str:
    """Open an emailed link and press its "Sign in" button, as a browser does."""
    async with http.get(link) as response:
        assert response.status == 200
        page = await response.text()
    match = re.search(r'<form method="post" action="([^"]+)">', page)
    assert match, page
    button = origin.rstrip("/") + match.group(1)
    async with http.post(button, headers={"Origin": origin.rstrip("/")}) as response:
        assert response.status == (200 if ok else 403), await response.text()
        if ok:
            assert response.url.path == "/web/cases/FR-0001"
        return await response.text()


def sweep_for_a_day(service: BotService, clock: FakeClock) -> None:
    """Past every level's time, with every instance's ticks in between."""
    for _ in range(8):
        clock.advance(hours=3)
        service.sweep()
        service.sweep()


@pytest.mark.issue(26, 1)
async def test_acknowledging_in_the_workspace_stops_the_ladder(database_url, clock, tmp_path):
    async with served_school(database_url, clock, tmp_path) as (service, access, server):
        urgent_report(service)
        clock.advance(minutes=30)
        service.sweep()
        assert fired(service) == [("still", "dsl")]  # the mention, and nothing more
        # The DSL opens the workspace from chat ("Open in browser") and acknowledges.
        link = access.issue_link("console", "dsl1", "Mr Patel", "/web/cases/FR-0001")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(link) as response:
                assert response.status == 200 and response.url.path == "/web/cases/FR-0001"
            page = await acknowledge_on_the_page(http, str(server.make_url("/web/cases/FR-0001")))
        assert "acknowledged FR-0001." in page
        sweep_for_a_day(service, clock)
        assert fired(service) == [("still", "dsl")]  # no deputy, no email, no Headteacher
        done = outcomes(service)
        assert all(done[kind] == "already acknowledged" for kind in LEVELS_AFTER_THE_MENTION), done


@pytest.mark.issue(26, 1)
async def test_acknowledging_from_the_emails_link_stops_the_ladder(database_url, clock, tmp_path):
    mail = FakeMailServer(tmp_path).start()
    try:
        async with served_school(database_url, clock, tmp_path) as (service, _, server):
            urgent_report(service)
            for minutes in (30, 30, 15):  # mention, the deputy, email the DSL team
                clock.advance(minutes=minutes)
                service.sweep()
            mail_settings = MailSettings.from_settings(Settings(_env_file=None, **mail.settings()))
            emails = EmailSendLoop(service.kernel, MailServer(mail_settings))
            await emails.flush()
            received = await mail.wait_for(2)
            assert sorted(r.recipients[0] for r in received) == [
                "deputy@school.example",
                "dsl@school.example",
            ]
            [to_dsl] = [r for r in received if r.recipients == ["dsl@school.example"]]
            match = re.search(r"Open schoolbot: (\S+)", to_dsl.part("plain"))
            assert match, to_dsl.part("plain")
            link = match.group(1)
            assert link.startswith(str(server.make_url("/web/sign-in/")))
            # The school's mail filter opens every link in an email before the DSL does.
            async with aiohttp.ClientSession() as mail_filter, mail_filter.get(link) as scanned:
                assert scanned.status == 200 and "Sign in" in await scanned.text()
            # The DSL, out of a lesson, follows the link in the email as it was received.
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                page = await press_sign_in(http, link, origin=str(server.make_url("")))
                assert "FR-0001" in page
                page_url = str(server.make_url("/web/cases/FR-0001"))
                page = await acknowledge_on_the_page(http, page_url)
                assert "acknowledged FR-0001." in page
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                page = await press_sign_in(http, link, origin=str(server.make_url("")), ok=False)
                assert "Sign-in links work once" in page
            before = fired(service)
            assert sorted(before) == [
                ("email", "console:dep"),
                ("email", "console:dsl1"),
                ("still", "dep"),
                ("still", "dsl"),
                ("still", "dsl"),
            ]
            sweep_for_a_day(service, clock)  # the Headteacher's email was due at 16:45
            await emails.flush()
            assert fired(service) == before
            assert len(mail.received) == 2  # nothing more reached the mail server
            assert outcomes(service)["case.head"] == "already acknowledged"
    finally:
        mail.stop()
