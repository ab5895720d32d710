"""`schoolbot run` with the mail server set: one line says email is on, and the start-up
check signs in to the local SMTP server (nothing sent) and says so, like Slack's and
Teams' checks; the password and the address appear nowhere in what it printed."""

from __future__ import annotations

import signal

import pytest

from tests.fakes.real_bot import real_bot, stopped_cleanly
from tests.fakes.smtp_server import PASSWORD, USERNAME, FakeMailServer


@pytest.mark.issue(26, 2)
async def test_run_prints_the_email_line_and_checks_the_sign_in(tmp_path):
    mail = FakeMailServer(tmp_path).start()
    try:
        async with real_bot(tmp_path, **mail.settings()) as bot:
            where = f"127.0.0.1:{mail.port} (STARTTLS, password)"
            await bot.printed(f"Email: signed in to the mail server {where}.")
            output = await stopped_cleanly(bot, signal.SIGTERM)
    finally:
        mail.stop()
    assert f"Email: unacknowledged alerts are emailed through {where}." in output
    assert PASSWORD not in output and USERNAME not in output
    assert mail.received == [] and mail.sign_ins == ["PLAIN"]
