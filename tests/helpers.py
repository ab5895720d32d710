"""Plain helpers the test modules share: paths, a clock, a real BotService, PostgreSQL,
the real `schoolbot` command, and the scripts people type in the conversations.

Fixtures are in conftest.py; fakes of the platforms and the harnesses that drive our real
server are in tests/fakes/.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.dispatch import BotService, Trust
from bot.domain.policy import PolicyPack, load_pack, parse_pack
from bot.domain.schools import School
from bot.domain.turns import StaffMessage
from bot.features.comments.rules import CommentIn
from bot.kernel.evidence_database import DatabaseEvidenceStore
from bot.kernel.evidence_folder import FolderEvidenceStore
from bot.platforms import PLATFORM_TITLES
from bot.storage import db
from bot.storage import repository as repo
from bot.storage.schools import add_school, find_school
from bot.storage.tables import Case
from bot.web.access import WebAccess

# The repository's top folder, whichever folder of tests/ a module is in.
ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "tests" / "schemas"


# --- the clock --------------------------------------------------------------------------------


class FakeClock:
    """A clock the tests move by hand instead of sleeping."""

    def __init__(self, start: datetime):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


# --- the databases: PostgreSQL, and SQLite held locked ----------------------------------------

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


def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database (not migrated), dropped afterwards."""
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


def owner_and_app_roles() -> Iterator[tuple[str, str]]:
    """(owner URL, bot URL) of a new database owned by a plain role (not a superuser, which
    row-level security never binds) and a second role for the bot; all dropped afterwards."""
    tag = uuid.uuid4().hex[:10]
    owner, app, name = f"sb_owner_{tag}", f"sb_app_{tag}", f"schoolbot_rls_{tag}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    base = sa.engine.make_url(PG_ADMIN_URL)
    with admin.connect() as connection:
        for role in (owner, app):
            connection.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD 'pw-{tag}'"))
        connection.execute(sa.text(f'CREATE DATABASE "{name}" OWNER {owner}'))
    owner_url, app_url = (
        base.set(database=name, username=role, password=f"pw-{tag}").render_as_string(
            hide_password=False
        )
        for role in (owner, app)
    )
    try:
        yield owner_url, app_url
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            for role in (app, owner):
                connection.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def lock_the_database(sqlite_url: str) -> sqlite3.Connection:
    """Another program holds SQLite's write lock: every write waits, then fails."""
    locker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    return locker


# --- a real BotService, and people using it ---------------------------------------------------


def make_service(
    url: str, pack: PolicyPack | str, clock: FakeClock, evidence_dir: Path, **kwargs: object
) -> BotService:
    """A service on this database, its evidence where a real install keeps it by default:
    in the database on PostgreSQL, in `evidence_dir` with SQLite."""
    if isinstance(pack, str):
        pack = load_pack(pack)
    kwargs.setdefault("platform_titles", PLATFORM_TITLES)
    engine = db.make_engine(url)
    store = (
        DatabaseEvidenceStore(engine)
        if url.startswith("postgresql")
        else FolderEvidenceStore(evidence_dir)
    )
    return BotService(engine, pack, store, clock=clock, **kwargs)  # type: ignore[arg-type]


def trust_of(first: BotService, install_pack: str = "dukeries-academy") -> Trust:
    """A trust starting with `first` whose other schools (as the `school` table lists them,
    each on its own pack) are built on first's engine and evidence store when first met,
    as `schoolbot run` builds them."""
    from bot.runtime import school_rules

    def build(school_id: int) -> BotService:
        service = BotService(
            first.engine,
            school_rules(first.engine, school_id, install_pack),
            first.kernel.evidence,
            clock=first.kernel.clock.source,
            platform_titles=PLATFORM_TITLES,
            school_id=school_id,
        )
        if isinstance(web := first.outbox.web, WebAccess):  # the workspace on, as for first
            service.outbox.web = WebAccess(service.kernel, web.public_url)
        return service

    return Trust([first], build=build)


def add_schools(engine: sa.Engine, *schools: tuple[str, str | None]) -> list[int]:
    """Add schools (key, pack) to the `school` table as `schoolbot schools add` does; their
    numbers. A key already there is left as it is."""

    ids = []
    with Session(engine) as session:
        for key, pack in schools:
            school = find_school(session, key) or add_school(
                session, School(0, key, pack=pack), datetime.now().astimezone()
            )
            ids.append(school.id)
        session.commit()
    return ids


def schools_up_to(engine: sa.Engine, number: int) -> None:
    """Schools numbered up to `number` (keys school-N, the install's pack) where missing."""

    from bot.storage.schools import list_schools

    with Session(engine) as session:
        have = len(list_schools(session))
    add_schools(engine, *((f"school-{n}", None) for n in range(have + 1, number + 1)))


def stored_files(service: BotService) -> list[str]:
    """The SHA-256 of every evidence file its store keeps (on disk or in the database)."""
    return list(service.kernel.evidence.names())


def grant(service: BotService, user_id: str, *roles: str, platform: str = "console") -> None:
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


def tell(service: BotService, user: str, name: str, *lines: str) -> str:
    """Several lines from one person (with their display name); the last reply's text."""
    replies = []
    for line in lines:
        replies = service.receive(StaffMessage("console", user, line, name=name)).replies
    return "\n".join(m.text for m in replies)


def seen(message: Any) -> str:
    """What a person reads in the terminal: names in place of mentions, fields included."""
    plain = message.with_names()
    return "\n".join([plain.title or "", plain.text, *(f"{k}: {v}" for k, v in plain.fields)])


def the_case(service: BotService, ref: str) -> Case:
    with service.kernel.session() as session:
        return session.exec(select(Case).where(Case.ref == ref)).one()


def dialog_answers(service: Any, platform: str, user: str) -> dict[str, Any] | None:
    """The answers of the person's conversation in progress (None: no conversation)."""
    with service.kernel.session() as session:
        row = repo.get_dialog(session, platform, user)
        return None if row is None else dict(row.state["answers"])


def last_alert_button(service: BotService, user: str, action_label: str) -> Any:
    """The button labelled `action_label` on the latest alert with buttons `user` has."""
    alerts = [m for m in service.intake.inbox("console", user) if m.buttons]
    assert alerts, f"{user} has no alert with buttons"
    return next(b for b in alerts[-1].buttons if b.label == action_label)


def two_stage_pack() -> PolicyPack:
    """The default pack with a DSL-then-headteacher chain (AC-APPROVE-CHAIN)."""
    text = (resources.files("bot.policies") / "default.toml").read_text()
    text = text.replace('stages = ["headteacher"]', 'stages = ["dsl", "headteacher"]')
    text = text.replace('AC-APPROVE-ONE = "6.2"', 'AC-APPROVE-CHAIN = "6.2"')
    return parse_pack(text, "two-stage")


# --- official accounts and comments -----------------------------------------------------------


def add_account(service: BotService, contacts: Any = ("console:mo1", "console:mo2")) -> Any:
    """PE Twitter in the register, moderated by Mr Jones and Ms Patel (mo1 and mo2)."""
    return service.comments.register_add(
        "test",
        name="PE Twitter",
        purpose="Fixtures and results",
        platform="X",
        author="Mr Jones",
        moderators=["Mr Jones", "Ms Patel"],
        contacts=list(contacts),
    )


def log_comment(service: BotService, **fields: Any) -> Any:
    """A parent's comment on account 1, logged from the command line."""
    data = {"account": 1, "author_type": "parent", "text": "When is sports day?", **fields}
    comment, created = service.comments.log_comment(CommentIn(**data), "cli", "cli:admin")
    assert created
    return comment


# --- what people type: the conversations' scripts ---------------------------------------------

FR_ANSWERS = ["friend request", "1", "no", "instagram", "no", "no"]
# The same, up to the last question (is there anything concerning?), to be answered by a test.
FR_UP_TO_CONCERNING = ["friend request", "1", "no", "instagram", "no"]
# A yes with what worries them, in their words (so "What worries you?" is not asked).
WORRY = "yes, she says she is scared to go home"

# A member of staff reporting posts about themselves, up to the evidence question.
CB_ABOUT_ME = [
    "someone keeps posting about me online",
    "me",
    "x",
    "https://x.com/someone/status/1",
    "yesterday 8pm",
    "Posting a photo of me with insults",
]
# The answers from the evidence question on ("done": no more files) to the end.
CB_AFTER_EVIDENCE = ["done", "yes", "yes", "no", "no"]

# An account request in the default pack, run by Ann Bell and Cy Dee.
DEFAULT_REQUEST = [
    "new official account",
    "Year 6 Blog",
    "instagram",
    "Share class work",
    "Parents",
    "Newsletter",
    "Ann Bell, Cy Dee",
    "closed",
    "Class photos with consent",
    "yes",
    "yes",
    "yes",
    "yes",
]
# The same request run by Ms Brown and Mr Jones (the case view names them).
BROWN_JONES_REQUEST = [
    "new official account",
    "Year 6 Blog",
    "instagram",
    "Share class work",
    "Parents",
    "Newsletter",
    "Ms Brown, Mr Jones",
    "closed",
    "Class photos with consent",
    "yes",
    "yes",
    "yes",
    "yes",
]

# The Dukeries Academy's account request form, every answer.
DUKERIES_FORM = [
    "PE Twitter",
    "x",
    "PE",
    "Jo Smith",
    "Head of PE",
    "Celebrate sport",
    "Parents and pupils",
    "Jo Smith, Al Brown",
    "Match reports and photos",
    "Staff only",
    "Jo Smith, Al Brown",
    "Cat Green, Dan Hill",
    "Head of PE",
    "school",
    "01/12/2026",
    "No end date",
    "Not planned",
    "Consent forms via the office",
    "Private, moderated replies",
]


def report_fr(
    service: BotService, concerning: str = "no", user: str = "alice", name: str = "Alice Smith"
) -> str:
    """A friend request from a pupil, reported by `user`; the last reply's text."""
    # A worry in their words, nobody in danger right now, no screenshots.
    worried = [WORRY, "no", "done"] if concerning.lower().startswith("y") else [concerning]
    reply = tell(service, user, name, *FR_UP_TO_CONCERNING, *worried)
    assert "Your reference is FR-" in reply, reply
    return reply


# --- the real `schoolbot` command -------------------------------------------------------------

SCHOOLBOT = [sys.executable, "-m", "bot.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment without platform or database settings; data under `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(SCHOOLBOT_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


async def run_until_healthy(env: dict[str, str], cwd: Path) -> str:
    """`schoolbot run` as a real process, until /healthz answers; everything it printed."""
    port = free_port()
    process = subprocess.Popen(
        [*SCHOOLBOT, "run", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)  # a real process starting: nothing to inject
            else:
                raise AssertionError("the bot never answered /healthz")
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    return output


def run_cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCHOOLBOT, *args],
        input=stdin,
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )


def fresh_shell_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no platform settings, the given SCHOOLBOT_HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_URL", "SCHOOLBOT_", "Microsoft", "TEAMS_"))
    }
    env.update(SCHOOLBOT_HOME=str(home), **extra)
    return env


def run_schoolbot(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCHOOLBOT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
