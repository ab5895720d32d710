"""Shared fixtures: real SQLite and PostgreSQL databases, a fixed clock, a real BotService."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.dispatch import BotService
from bot.domain.policy import PolicyPack, load_pack
from bot.domain.turns import StaffMessage
from bot.kernel.evidence_store import EvidenceStore
from bot.platforms import PLATFORM_TITLES
from bot.storage import db

pytest_plugins = ["tests.slack_harness", "tests.teams_client", "tests.workspace_harness"]

PG_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg_problem: str | None = None
_pg_checked = False


def postgres_problem() -> str | None:
    """Why PostgreSQL can't be used for tests, or None when it can (checked once)."""
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            engine.dispose()
        except Exception as exc:
            _pg_problem = (
                f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); "
                "set TEST_DATABASE_URL to run the PostgreSQL storage tests"
            )
    return _pg_problem


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


class FakeClock:
    """A clock the tests move by hand instead of sleeping."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    # A Saturday afternoon in November (GMT), a normal term-time weekend.
    return FakeClock(datetime(2026, 11, 21, 15, 0, tzinfo=UTC))


def _fresh_postgres() -> Iterator[str]:
    name = f"schoolbot_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


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
    for url in _fresh_postgres():
        db.upgrade(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'test.db'}"
    db.upgrade(url)
    return url


def make_service(
    url: str, pack: PolicyPack | str, clock: FakeClock, evidence_dir: Path, **kwargs: object
) -> BotService:
    if isinstance(pack, str):
        pack = load_pack(pack)
    kwargs.setdefault("platform_titles", PLATFORM_TITLES)
    return BotService(db.make_engine(url), pack, EvidenceStore(evidence_dir), clock=clock, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def service_factory(sqlite_url: str, clock: FakeClock, tmp_path: Path):
    """Build services on one SQLite database; several calls share it, like restarts do."""

    def build(pack: PolicyPack | str = "default", url: str | None = None) -> BotService:
        return make_service(url or sqlite_url, pack, clock, tmp_path / "evidence")

    return build


def grant(service: BotService, user_id: str, *roles: str, platform: str = "console") -> None:
    from bot.storage import repository as repo

    with service.kernel.session() as session:
        for role in roles:
            repo.add_role(session, platform, user_id, role, "test", now=service.kernel.now())
        session.commit()


def say(service: BotService, user: str, *lines: str) -> list[str]:
    """Send several lines as one user; return the text of the last reply."""
    texts: list[str] = []
    for line in lines:
        texts = [
            m.text for m in service.receive(StaffMessage("console", user, line, name=user)).replies
        ]
    return texts
