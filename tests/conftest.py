"""Shared fixtures: real SQLite and PostgreSQL databases, a fixed clock, a real BotService,
and our real server with each platform on, driven by the fakes in tests/fakes/."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Plain `assert`s in the helpers and fakes explain themselves as the tests' own do.
pytest.register_assert_rewrite("tests.helpers", "tests.fakes")

from bot.dispatch import BotService  # noqa: E402
from bot.domain.policy import PolicyPack  # noqa: E402
from bot.storage import db  # noqa: E402
from tests.fakes import browser as chromium  # noqa: E402
from tests.fakes.edge_servers import Edges, edges  # noqa: E402
from tests.fakes.fake_connector import FakeConnector  # noqa: E402
from tests.fakes.slack_harness import Bot, running_slack_bot  # noqa: E402
from tests.fakes.teams_client import TeamsClient, running_bot  # noqa: E402
from tests.fakes.workspace_harness import Workspace, running_workspace  # noqa: E402
from tests.helpers import FakeClock, fresh_postgres, make_service, postgres_problem  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _schoolbot_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests, and the commands they start, never read the developer's own .env or data/."""
    before = os.environ.get("SCHOOLBOT_HOME")
    os.environ["SCHOOLBOT_HOME"] = str(tmp_path_factory.mktemp("schoolbot-home"))
    yield
    if before is None:
        os.environ.pop("SCHOOLBOT_HOME", None)
    else:
        os.environ["SCHOOLBOT_HOME"] = before


# --- the clock and the databases -------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    # A Saturday afternoon in November (GMT), a normal term-time weekend.
    return FakeClock(datetime(2026, 11, 21, 15, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: SQLite always, PostgreSQL when one is reachable."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        db.upgrade(url)
        yield url
        return
    if problem := postgres_problem():
        pytest.skip(problem)
    for url in fresh_postgres():
        db.upgrade(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'test.db'}"
    db.upgrade(url)
    return url


@pytest.fixture
def migrated_pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, for tests that are about PostgreSQL."""
    if problem := postgres_problem():
        pytest.skip(problem)
    for url in fresh_postgres():
        db.upgrade(url)
        yield url


@pytest.fixture
def service_factory(sqlite_url: str, clock: FakeClock, tmp_path: Path):
    """Build services on one SQLite database; several calls share it, like restarts do."""

    def build(pack: PolicyPack | str = "default", url: str | None = None) -> BotService:
        return make_service(url or sqlite_url, pack, clock, tmp_path / "evidence")

    return build


# --- our real server, with a platform on, against its fake -------------------------------------


@pytest.fixture
async def bot(sqlite_url, clock, tmp_path) -> AsyncIterator[Bot]:
    """Our app with Slack on (HTTP mode, pack dukeries-academy), the fake Slack's Web API."""
    async with running_slack_bot(sqlite_url, clock, tmp_path) as running:
        yield running


@pytest.fixture
def fake() -> Iterator[FakeConnector]:
    """The fake Bot Connector and Azure AD sign-in that Teams tests talk to."""
    connector = FakeConnector().start()
    yield connector
    connector.close()


@pytest.fixture
async def teams(sqlite_url, clock, tmp_path, fake) -> AsyncIterator[TeamsClient]:
    """Our app with Teams on, pack dukeries-academy, the fake connector as serviceUrl."""
    async with running_bot(sqlite_url, "dukeries-academy", clock, tmp_path, fake) as client:
        yield client


@pytest.fixture
async def workspace(sqlite_url: str, clock, tmp_path: Path) -> AsyncIterator[Workspace]:
    """Our app with the web workspace on and a cyberbullying case with two files."""
    async with running_workspace(sqlite_url, clock, tmp_path) as running:
        yield running


@pytest.fixture
async def door(sqlite_url, clock, tmp_path, fake) -> AsyncIterator[Edges]:
    """One running app with every inbound door open: Slack, Teams and the comment webhook."""
    async with edges(sqlite_url, clock, tmp_path, connector=fake) as running:
        yield running


@pytest.fixture
async def browser():
    """Debian's Chromium, headless; skipped with the reason where it can't run (not on CI)."""
    if problem := chromium.missing():
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run on CI: {problem}")
        pytest.skip(problem)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium.CHROMIUM), headless=True, args=chromium.CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()
