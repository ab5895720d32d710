"""The `driver` fixture: every platform test runs on the terminal, Slack and Teams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.drivers import Driver, Slack, Teams, Terminal
from tests.fakes.fake_connector import FakeConnector
from tests.fakes.slack_harness import running_slack_bot
from tests.fakes.teams_client import running_bot
from tests.helpers import make_service


@pytest.fixture(params=["terminal", "slack", "teams"])
async def driver(request, sqlite_url, clock, tmp_path) -> AsyncIterator[Driver]:
    if request.param == "terminal":
        yield Terminal(make_service(sqlite_url, "dukeries-academy", clock, tmp_path / "evidence"))
    elif request.param == "slack":
        async with running_slack_bot(sqlite_url, clock, tmp_path) as bot:
            yield Slack(bot)
    else:
        connector = FakeConnector().start()
        try:
            async with running_bot(
                sqlite_url, "dukeries-academy", clock, tmp_path, connector
            ) as teams:
                yield Teams(teams)
        finally:
            connector.close()
