"""Escalation emails as a local SMTP server (aiosmtpd) received them: over STARTTLS with a
password and over implicit TLS with OAuth2 (XOAUTH2); a reference, the kind, urgent or
not, the time and a one-time sign-in link, never a name, an answer or evidence; plain text
and HTML; retried from the outbox when the server is busy or down; checked at start-up.

The clock starts on Saturday 21 November 2026, 15:00 GMT; the default pack's ladder
emails the DSL team 75 minutes after an urgent report nobody acknowledges.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.domain.turns import ButtonPress
from bot.platforms.email.platform import EMAIL
from bot.platforms.email.sends import EmailSendLoop
from bot.platforms.email.server import MailServer, MailSettings
from bot.storage import repository as repo
from bot.storage.tables import Outbox
from bot.web.access import WebAccess
from tests.fakes.smtp_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    FakeMailServer,
    FakeTokenEndpoint,
)
from tests.helpers import FR_UP_TO_CONCERNING, grant, tell

PUBLIC_URL = "https://bot.school.example"
ADDRESSES = {"dsl1": "dsl@school.example", "dep": "deputy@school.example"}
LINK = re.compile(re.escape(PUBLIC_URL) + r"/web/sign-in/([0-9]+\.[A-Za-z0-9_-]+)")


@pytest.fixture
def mail(tmp_path):
    server = FakeMailServer(tmp_path).start()
    yield server
    server.stop()


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)


def school(service_factory, *, web: bool = True):
    """The DSL and deputy with addresses, the Headteacher without; email on."""
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "dep", "deputy_dsl")
    grant(service, "head", "headteacher")
    with service.kernel.session() as session:
        for user, address in ADDRESSES.items():
            repo.set_email(session, "console", user, address)
        session.commit()
    service.outbox.emails = True
    if web:
        service.outbox.web = WebAccess(service.kernel, PUBLIC_URL)
    return service


def urgent_report_left_unacknowledged(service, clock) -> None:
    """Alice reports a worrying friend request; nobody acknowledges it for 75 minutes."""
    reply = tell(
        service,
        "alice",
        "Alice Smith",
        *FR_UP_TO_CONCERNING,
        "yes, she says she is scared to go home",
        "no",
        "done",
    )
    assert "FR-0001" in reply
    for minutes in (30, 30, 15):  # mention, deputy, email the DSL team
        clock.advance(minutes=minutes)
        service.sweep()


def loop_for(service, mail: FakeMailServer, **more: str) -> EmailSendLoop:
    mail_settings = MailSettings.from_settings(settings(**mail.settings(**more)))
    return EmailSendLoop(service.kernel, MailServer(mail_settings))


def email_rows(service) -> list[Outbox]:
    with service.kernel.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.platform == "email")))


@pytest.mark.issue(26, 2)
async def test_the_dsl_team_gets_an_email_with_a_reference_and_a_link_and_no_personal_details(
    service_factory, clock, mail
):
    service = school(service_factory)
    urgent_report_left_unacknowledged(service, clock)
    await loop_for(service, mail).flush()
    received = await mail.wait_for(2)
    assert sorted(r.recipients[0] for r in received) == sorted(ADDRESSES.values())
    assert mail.sign_ins == ["PLAIN", "PLAIN"]
    kind = service.kernel.registry.case_kind("FR").title
    for email in received:
        assert email.message["Subject"] == "URGENT safeguarding alert FR-0001 not yet acknowledged"
        assert email.message["From"] == "schoolbot@school.example"
        assert email.message["Importance"] == "high"
        plain, html = email.part("plain"), email.part("html")
        for words in (
            "Reference: FR-0001",
            f"Kind: {kind}",
            "Urgent: Yes",
            "Reported: Sat 21 Nov 2026, 15:00",
            "not been acknowledged for 75 minutes",
        ):
            assert words in plain, words
        assert "FR-0001" in html and "<table>" in html
        assert LINK.search(plain) and LINK.search(html)
        # Never a name, an answer, or anything the reporter typed.
        for secret in ("Alice", "alice", "nstagram", "concerning", "dsl1", "dep"):
            assert secret not in plain and secret not in html, secret
    # Each link works once, for the person it was sent to, on the case's page.
    web = service.outbox.web
    assert isinstance(web, WebAccess)
    for email in received:
        token = LINK.search(email.part("plain")).group(1)  # type: ignore[union-attr]
        opened = web.redeem(token)
        assert opened is not None and opened[1] == "/web/cases/FR-0001"
        assert web.redeem(token) is None
    assert all(row.status == "sent" for row in email_rows(service))


@pytest.mark.issue(26, 2)
async def test_the_headteacher_is_emailed_last_and_only_with_an_address(
    service_factory, clock, mail
):
    service = school(service_factory)
    with service.kernel.session() as session:
        repo.set_email(session, "console", "head", "head@school.example")
        session.commit()
    urgent_report_left_unacknowledged(service, clock)
    clock.advance(minutes=30)
    service.sweep()
    await loop_for(service, mail).flush()
    received = await mail.wait_for(3)
    to_head = [r for r in received if r.recipients == ["head@school.example"]]
    [email] = to_head
    assert "make sure the safeguarding team has seen it" in email.part("plain")
    token = LINK.search(email.part("plain")).group(1)  # type: ignore[union-attr]
    assert service.outbox.web.redeem(token)[1] == "/web/"  # type: ignore[union-attr]


@pytest.mark.issue(26, 2)
async def test_oauth2_over_implicit_tls(service_factory, clock, tmp_path):
    tokens = await FakeTokenEndpoint().start()
    mail = FakeMailServer(tmp_path, security="tls").start()
    try:
        service = school(service_factory)
        urgent_report_left_unacknowledged(service, clock)
        loop = loop_for(
            service,
            mail,
            SMTP_PASSWORD="",
            SMTP_OAUTH2_TOKEN_URL=tokens.url,
            SMTP_OAUTH2_CLIENT_ID=CLIENT_ID,
            SMTP_OAUTH2_CLIENT_SECRET=CLIENT_SECRET,
        )
        await loop.flush()
        await mail.wait_for(2)
    finally:
        mail.stop()
        await tokens.close()
    assert mail.sign_ins == ["XOAUTH2", "XOAUTH2"]
    assert len(tokens.requests) == 1  # one token, kept for its lifetime
    assert tokens.requests[0]["grant_type"] == "client_credentials"


@pytest.mark.issue(26, 2)
async def test_a_busy_or_missing_mail_server_is_retried_from_the_outbox(
    service_factory, clock, mail
):
    service = school(service_factory)
    urgent_report_left_unacknowledged(service, clock)
    loop = loop_for(service, mail)
    mail.refuse_next = 2  # 451 twice: the server is busy
    await loop.flush()
    rows = email_rows(service)
    assert all(r.status == "pending" and r.attempts == 1 for r in rows), rows
    assert all("451" in (r.last_error or "") for r in rows)
    assert mail.received == []
    # Down altogether: still queued, and a chat reply is not held up by it.
    mail.stop()
    clock.advance(minutes=1)
    await loop.flush()
    assert all(r.status == "pending" and r.attempts == 2 for r in email_rows(service))
    assert "reach the mail server" in (email_rows(service)[0].last_error or "")
    assert "Your reference is FR-0002" in tell(
        service,
        "bob",
        "Bob",
        *FR_UP_TO_CONCERNING,
        "yes, she says she is scared to go home",
        "no",
        "done",
    )
    mail.start()
    clock.advance(minutes=1)
    await loop_for(service, mail).flush()
    assert len(await mail.wait_for(2)) == 2
    assert {r.status for r in email_rows(service)} == {"sent"}


@pytest.mark.issue(26, 2)
async def test_an_email_held_up_until_after_the_case_was_acknowledged_is_not_sent(
    service_factory, clock, mail
):
    service = school(service_factory)
    urgent_report_left_unacknowledged(service, clock)
    service.press(ButtonPress("console", "dsl1", "case.ack", "FR-0001"))
    await loop_for(service, mail).flush()
    assert mail.received == []
    rows = email_rows(service)
    assert rows and all(
        r.status == "sent" and (r.external_ref or "").startswith("skipped") for r in rows
    )


@pytest.mark.issue(26, 2)
async def test_the_start_up_check_signs_in_and_says_what_is_wrong(mail, caplog):
    good = settings(**mail.settings())
    [line] = await EMAIL.check(good, "starttls")  # type: ignore[misc]
    assert (
        line == f"Email: signed in to the mail server 127.0.0.1:{mail.port} (STARTTLS, password)."
    )
    wrong = settings(**mail.settings(SMTP_PASSWORD="wrong"))
    [line] = await EMAIL.check(wrong, "starttls")  # type: ignore[misc]
    assert "refused the sign-in (535)" in line and "SMTP_" in line
    untrusted = settings(**mail.settings(SMTP_CA_FILE=""))
    [line] = await EMAIL.check(untrusted, "starttls")  # type: ignore[misc]
    assert "TLS" in line and "couldn't reach" in line
    relay = settings(**mail.settings(SMTP_HOST="mail.example.org", SMTP_SECURITY="none"))
    [line] = await EMAIL.check(relay, "none")  # type: ignore[misc]
    assert "only for a relay on this machine" in line
    for said in [line, caplog.text]:
        assert PASSWORD not in said and USERNAME not in said
    assert EMAIL.status(good, "starttls").startswith("Email: unacknowledged alerts are emailed")
    assert EMAIL.status(settings(), None).startswith("Email: off")
