"""Issue 25: every `schoolbot` command that works on a school's records says which school
(`--school KEY_OR_ID` or SCHOOLBOT_SCHOOL) and works on that school only. Run as the real
command on SQLite and on PostgreSQL as a bot role that does not own its tables (so
row-level security is live), with two schools on different packs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import sqlalchemy as sa

from tests.helpers import (
    FR_UP_TO_CONCERNING,
    SCHOOLBOT,
    env_for,
    owner_and_app_roles,
    postgres_problem,
)

REPORT = "\n".join([*FR_UP_TO_CONCERNING, "no"]) + "\n"


class Install:
    """One install's environment, and the real command run in it."""

    def __init__(self, tmp_path: Path, owner_url: str | None, **env: str):
        self.tmp_path, self.owner_url = tmp_path, owner_url
        self.env = env_for(tmp_path, **env)

    def run(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*SCHOOLBOT, *args],
            input=stdin, env={**self.env, **env}, capture_output=True, text=True,
            cwd=self.tmp_path, timeout=120,
        )  # fmt: skip

    def rows(self, query: str) -> list[tuple]:
        """Every school's rows, read past row-level security (as the trust scope does)."""
        url = self.owner_url or f"sqlite:///{self.tmp_path / 'data' / 'schoolbot.db'}"
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT set_config('app.trust_scope', 'on', true)"))
            found = [tuple(row) for row in connection.execute(sa.text(query)).all()]
        engine.dispose()
        return found


@pytest.fixture(params=["sqlite", "postgresql"])
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Install]:
    if request.param == "sqlite":
        yield Install(tmp_path, None)
        return
    if problem := postgres_problem():
        pytest.skip(problem)
    for owner_url, app_url in owner_and_app_roles():
        yield Install(tmp_path, owner_url, DATABASE_URL=app_url, DATABASE_OWNER_URL=owner_url)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.issue(25, 5)
def test_each_command_works_on_the_school_it_is_given_and_only_that_one(install):
    ok(install.run("schools", "add", "kings", "--pack", "king-jamess-school"))
    assert "dsl1 is now" in ok(install.run("roles", "add", "--school", "school", "dsl1", "dsl"))
    assert "dsl2 is now" in ok(install.run("roles", "add", "--school", "kings", "dsl2", "dsl"))
    reported = ok(
        install.run("chat", "--school", "1", "--as", "alice", "--name", "Ms A", stdin=REPORT)
    )
    assert "Your reference is FR-0001" in reported

    first = ok(install.run("cases", "list", "--school", "school"))
    assert "FR-0001" in first and "reported by Ms A" in first
    assert ok(install.run("cases", "list", "--all", "--school", "kings")) == "No cases yet.\n"
    elsewhere = install.run("cases", "show", "--school", "2", "FR-0001")
    assert elsewhere.returncode == 1 and "There is no case FR-0001" in elsewhere.stderr
    kings = ok(install.run("roles", "list", "--school", "kings"))
    assert "dsl2" in kings and "dsl1" not in kings
    assert "Add someone: schoolbot roles add --school kings USER_ID deputy_dsl" in kings
    assert "dsl1" not in ok(install.run("roles", "list", SCHOOLBOT_SCHOOL="kings"))
    assert "FR-0001" not in ok(install.run("records", "due", "--school", "kings"))
    ok(install.run(
        "accounts", "add", "--school", "kings", "--name", "Kings PE", "--purpose", "Fixtures",
        "--author", "Mr P", "--moderator", "Mr P", "--moderator", "Ms Q",
    ))  # fmt: skip
    assert "Kings PE" in ok(install.run("accounts", "list", "--school", "kings"))
    assert "register is empty" in ok(install.run("accounts", "list", "--school", "school"))
    ok(install.run("records", "sweep", "--all-schools"))
    ok(install.run("scheduler", "tick", "--all-schools"))

    # Each school's audit trail has its own entries, and the other school's none of them.
    audit = install.rows(
        "SELECT school_id, action, subject FROM audit_event WHERE action = 'role.added' ORDER BY id"
    )
    assert audit == [(1, "role.added", "console:dsl1"), (2, "role.added", "console:dsl2")]
    assert install.rows('SELECT school_id, ref FROM "case"') == [(1, "FR-0001")]


@pytest.mark.issue(25, 5)
def test_with_two_schools_a_command_without_school_says_which_there_are(install):
    ok(install.run("schools", "add", "kings", "--pack", "king-jamess-school"))
    before = install.rows("SELECT count(*) FROM audit_event") + install.rows(
        "SELECT count(*) FROM role_assignment"
    )
    for args in (("roles", "add", "dsl1", "dsl"), ("cases", "list"), ("report",)):
        refused = install.run(*args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert "This install serves 2 schools" in refused.stderr
        assert "add --school KEY_OR_ID (or set SCHOOLBOT_SCHOOL)" in refused.stderr
        assert "  1  school  Our School  (pack: SCHOOLBOT_POLICY)" in refused.stderr
        assert "  2  kings  King James's School" in refused.stderr

    unknown = install.run("roles", "add", "--school", "nowhere", "dsl1", "dsl")
    assert unknown.returncode == 2
    assert "There is no school 'nowhere', so nothing was changed." in unknown.stderr
    from_env = install.run("roles", "list", SCHOOLBOT_SCHOOL="3")
    assert from_env.returncode == 2
    assert "SCHOOLBOT_SCHOOL is '3', but there is no school '3'" in from_env.stderr
    after = install.rows("SELECT count(*) FROM audit_event") + install.rows(
        "SELECT count(*) FROM role_assignment"
    )
    assert after == before  # nothing written
    both = install.run("records", "sweep", "--school", "kings", "--all-schools")
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.issue(25, 5)
def test_one_school_needs_no_option_and_still_refuses_an_unknown_one(tmp_path):
    install = Install(tmp_path, None)
    ok(install.run("roles", "add", "dsl1", "dsl"))
    assert "dsl1" in ok(install.run("roles", "list", "--school", "school"))
    one = ok(install.run("roles", "list", "--school", "1"))
    assert "dsl1" in one and "Add someone: schoolbot roles add USER_ID deputy_dsl" in one
    unknown = install.run("roles", "add", "--school", "kings", "dsl2", "dsl")
    assert unknown.returncode == 2 and "There is no school 'kings'" in unknown.stderr
    assert install.rows("SELECT user_id FROM role_assignment") == [("dsl1",)]


# --- every command on a school's records carries the option ------------------------------

# Groups whose commands work on one school's records, and the trust-wide exceptions.
SCHOOL_GROUPS = ("roles", "cases", "records", "accounts", "comments", "scheduler")
SCHOOL_COMMANDS = ("chat", "report")
TRUST_WIDE = {"records encrypt-evidence", "records move-evidence-to-database"}


def _commands(group: click.Group, prefix: str) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path, command


@pytest.mark.issue(25, 5)
def test_every_command_on_a_schools_records_takes_school_and_trust_wide_ones_say_so():
    from bot.cli.main import main

    everything = dict(_commands(main, ""))
    chosen = [
        path for path in everything if path.split()[0] in SCHOOL_GROUPS or path in SCHOOL_COMMANDS
    ]
    assert len(chosen) > 25
    for path in chosen:
        options = {opt for p in everything[path].params for opt in getattr(p, "opts", [])}
        if path in TRUST_WIDE:
            assert "--school" not in options, path
            assert "Trust-wide" in (everything[path].help or ""), path
        else:
            assert "--school" in options, path
    for path in ("records sweep", "scheduler tick", "slack status", "secrets rotate"):
        assert "every school" in (everything[path].help or ""), path
