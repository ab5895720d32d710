"""Issue 10, going live on a fresh clone: the project stands alone and looks after its data.

Covers points 1 (schemas carried in the repo), 11 (private data folder), 12 (the same
`.env` and database from any folder), 14 (licence, quiet scheduler), 21 (the clause
reference) and part of 22 (examples in the README and docs/, Slack scopes, export errors).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, SCHEMAS

SCHOOLBOT = [sys.executable, "-m", "bot.cli"]

# A path built to a folder outside the repo named after the word below: with "../", with
# slashes round it, or as a quoted path part. Spelt in pieces so this file does not match.
_WORD = "sha" + "red"
SHARED_PATH = re.compile(rf"""\.\./{_WORD}|/{_WORD}/|"{_WORD}" */|/ *"{_WORD}"|['"]{_WORD}['"]""")


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no platform settings, the given SCHOOLBOT_HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_URL", "SCHOOLBOT_", "Microsoft", "TEAMS_"))
    }
    env.update(SCHOOLBOT_HOME=str(home), **extra)
    return env


def schoolbot(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCHOOLBOT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


# --- 1. The official schemas live in the repository ---------------------------------------

VENDORED = {
    "adaptive-cards": "adaptive-card-1.5.json",
    "slack-manifest": "manifest.schema.2.0.0.json",
    "teams-manifest": "MicrosoftTeams.schema.json",
}


@pytest.mark.parametrize("folder", sorted(VENDORED))
def test_golive_01_each_schema_is_in_the_repo_with_its_licence_and_source(folder):
    here = SCHEMAS / folder
    schema = json.loads((here / VENDORED[folder]).read_text(encoding="utf-8"))
    assert "json-schema.org" in schema["$schema"]
    assert "Permission is hereby granted" in (here / "LICENSE").read_text(encoding="utf-8")
    source = (here / "SOURCE.md").read_text(encoding="utf-8")
    assert VENDORED[folder] in source
    assert re.search(r"https://github\.com/[\w.-]+/[\w.-]+/blob/[0-9a-f]{40}/", source)
    assert "version" in source.lower()


def test_golive_01_nothing_in_bot_tests_or_bench_builds_a_path_to_a_shared_folder():
    files = [ROOT / "Makefile", *sorted((ROOT / ".ci").iterdir())]
    for top in ("bot", "tests", "bench"):
        files += [p for p in sorted((ROOT / top).rglob("*")) if p.suffix in (".py", ".toml")]
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SHARED_PATH.search(line)
    ]
    assert offenders == []


def test_golive_01_the_card_schema_the_teams_tests_use_is_inside_the_repo():
    from tests.fakes.teams_client import CARD_SCHEMA

    assert CARD_SCHEMA.resolve().is_relative_to(ROOT.resolve()) and CARD_SCHEMA.is_file()


def test_golive_01_a_copy_with_nothing_beside_it_validates_the_manifests(tmp_path):
    """The tracked files alone, in an empty folder: the schema tests pass, none skipped."""
    clone = tmp_path / "empty" / "schoolbot"
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in tracked)):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/platforms/test_manifests.py",
        ],
        cwd=clone,
        env=cli_env(clone / "home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "skipped" not in result.stdout and "passed" in result.stdout


# --- 11. The data folder and database are private to the bot's own user ------------------


def private(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


def test_golive_11_data_folder_database_and_evidence_are_readable_by_their_owner_only(
    tmp_path,
):
    home = tmp_path / "home"
    result = subprocess.run(
        [*SCHOOLBOT, "roles", "add", "dsl1", "dsl"],
        cwd=tmp_path,
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask: new files world-readable
    )
    assert result.returncode == 0, result.stderr
    data = home / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "schoolbot.db").stat().st_mode) == 0o600
    assert [p.name for p in data.rglob("*") if not private(p)] == []

    from bot.kernel.evidence_store import EvidenceStore

    old = os.umask(0o022)
    try:
        stored = EvidenceStore(data / "evidence").put("ab" * 32, b"screenshot bytes")
    finally:
        os.umask(old)
    assert stat.S_IMODE((data / "evidence").stat().st_mode) == 0o700
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_golive_11_a_database_left_readable_by_an_older_version_is_tightened(tmp_path):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True, mode=0o755)
    (home / "data").chmod(0o755)
    assert schoolbot(tmp_path, cli_env(home), "db", "upgrade").returncode == 0
    (home / "data" / "schoolbot.db").chmod(0o644)
    assert schoolbot(tmp_path, cli_env(home), "roles", "list").returncode == 0
    assert stat.S_IMODE((home / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "data" / "schoolbot.db").stat().st_mode) == 0o600


def test_golive_11_the_docs_say_how_to_back_up_and_protect_the_data_folder():
    setup = (ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    section = setup.split("## Back up and protect")[1].split("\n## ")[0]
    assert "sqlite3" in section and ".backup" in section  # a consistent copy while it runs
    assert "pg_dump" in section
    assert "0700" in section and "0600" in section
    assert "evidence" in section


# --- 12. `.env` and the database are found the same way from any folder -------------------


def test_golive_12_a_command_from_another_folder_uses_the_same_env_and_database(tmp_path):
    home, here, there = tmp_path / "home", tmp_path / "here", tmp_path / "there"
    for folder in (home, here, there):
        folder.mkdir()
    # A role that only King James's pack has: it works only if home/.env was read, and the
    # pack file it names was found in the home folder too.
    shutil.copy(ROOT / "bot" / "policies" / "king-jamess-school.toml", home / "our-pack.toml")
    (home / ".env").write_text("SCHOOLBOT_POLICY=our-pack.toml\n", encoding="utf-8")
    env = cli_env(home)

    first = schoolbot(here, env, "roles", "add", "mr-it", "director_of_it")
    assert first.returncode == 0, first.stderr
    database = home / "data" / "schoolbot.db"
    assert f"Created a new, empty database at {database}." in first.stderr

    listed = schoolbot(there, env, "roles", "list")
    assert listed.returncode == 0, listed.stderr
    assert "mr-it" in listed.stdout and "Director of IT" in listed.stdout
    assert "Created a new" not in listed.stderr
    assert not (here / "data").exists() and not (there / "data").exists()


def test_golive_12_without_a_home_setting_the_home_is_the_clone(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SCHOOLBOT_HOME"}
    code = "from bot.config import project_home; print(project_home())"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert Path(result.stdout.strip()) == ROOT.resolve()


# --- 14. Licence, a visible install, and no scheduler chatter -----------------------------


def test_golive_14_the_licence_is_apache_2_declared_as_an_spdx_string():
    import importlib.metadata
    import tomllib

    from packaging.requirements import Requirement

    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert pyproject["project"]["license-files"] == ["LICENSE"]
    # setuptools reads the SPDX string from 77 on; a table there is what it warns about.
    [setuptools] = [
        r for r in map(Requirement, pyproject["build-system"]["requires"]) if r.name == "setuptools"
    ]
    assert "76.9" not in setuptools.specifier and "77.0" in setuptools.specifier
    assert importlib.metadata.metadata("schoolbot")["License-Expression"] == "Apache-2.0"


def test_golive_14_the_install_ends_by_running_the_installed_command(tmp_path):
    version = schoolbot(tmp_path, cli_env(tmp_path), "--version")
    assert version.returncode == 0 and version.stdout.strip().endswith("0.1.0")
    plan = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", ".venv/.installed-run", ".venv/.installed-test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    steps = plan.stdout.splitlines()
    installs = [n for n, step in enumerate(steps) if "pip install" in step]
    assert len(installs) == 2
    for n in installs:
        assert "schoolbot --version" in steps[n + 1] and "Installed" in steps[n + 1]


async def test_golive_14_scheduler_ticks_write_no_info_lines(caplog, sqlite_url, clock, tmp_path):
    import asyncio
    import logging

    from aiohttp.test_utils import TestServer
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    from bot.app import create_app
    from bot.config import Settings
    from bot.scheduler import SCHEDULER_KEY
    from tests.helpers import make_service

    caplog.set_level(logging.INFO)  # what `schoolbot run` logs at its default level
    service = make_service(sqlite_url, "default", clock, tmp_path / "evidence")
    settings = Settings(_env_file=None, SCHOOLBOT_DATA_DIR=tmp_path, SCHOOLBOT_TICK_SECONDS=0.2)
    app = create_app(service, settings)
    ticks: asyncio.Queue[bool] = asyncio.Queue()
    async with TestServer(app):
        app[SCHEDULER_KEY].add_listener(
            lambda event: ticks.put_nowait(event.code == EVENT_JOB_EXECUTED),
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
        )
        for _ in range(3):
            assert await asyncio.wait_for(ticks.get(), timeout=30) is True
    chatter = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("apscheduler") and r.levelno < logging.WARNING
    ]
    assert chatter == []


# --- 21. The project's own clause reference, kept up to date ------------------------------

DOC = ROOT / "docs" / "policy-clauses.md"


def test_golive_21_docs_policy_clauses_is_what_the_command_writes_today(tmp_path):
    """Fails when the code or a pack changed and the reference was not written again."""
    printed = schoolbot(tmp_path, cli_env(tmp_path), "policy", "clauses")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == DOC.read_text(encoding="utf-8"), (
        "docs/policy-clauses.md is stale: run "
        "`.venv/bin/schoolbot policy clauses --write docs/policy-clauses.md`"
    )
    written = schoolbot(
        tmp_path, cli_env(tmp_path), "policy", "clauses", "--write", str(tmp_path / "c.md")
    )
    assert written.returncode == 0 and (tmp_path / "c.md").read_text() == printed.stdout


def test_golive_21_one_row_per_clause_with_each_packs_section():
    from bot.domain.policy import KNOWN_CLAUSES, bundled_pack_names, load_pack

    rows = {}
    header: list[str] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "ID":
            header = [c.strip("`") for c in cells]
        elif re.fullmatch(r"[A-Z]+-[A-Z0-9-]+", cells[0]):
            rows[cells[0]] = dict(zip(header, cells, strict=True))
    assert set(rows) == KNOWN_CLAUSES
    for name in bundled_pack_names():
        pack = load_pack(name)
        for clause, row in rows.items():
            assert row[name] == pack.clauses.get(clause, "*not applied*"), (clause, name)
    assert all(len(row["What the bot does"]) > 20 for row in rows.values())


def test_golive_21_the_code_and_packs_cite_the_reference_that_ships():
    sources = [
        ROOT / "bot" / "domain" / "policy.py",
        *sorted((ROOT / "bot" / "policies").glob("*.toml")),
    ]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "POLICY-CLAUSES.md" not in text, path.name
        assert "docs/policy-clauses.md" in text, path.name
    assert DOC.is_file()


# --- 22. Examples paste cleanly, Slack scopes explained, export errors --------------------


def documentation() -> str:
    """The README and every page in docs/, one after another."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_golive_22_every_shell_example_in_the_docs_is_valid_shell(tmp_path):
    blocks = re.findall(r"```sh\n(.*?)```", documentation(), flags=re.S)
    assert len(blocks) > 5
    for block in blocks:
        script = "\n".join(line.strip() for line in block.splitlines())
        checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert checked.returncode == 0, f"{checked.stderr}\n{script}"


def test_golive_22_the_slack_page_explains_every_scope_the_manifest_asks_for():
    manifest = json.loads((ROOT / "manifests" / "slack" / "manifest.json").read_text())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    section = (ROOT / "docs" / "slack.md").read_text(encoding="utf-8")
    explained = dict(re.findall(r"^\s*\| `([a-z:._]+)` \| (.+) \|$", section, flags=re.M))
    assert set(scopes) == set(explained)
    assert "channels:history" in section and "users:read" in section  # why they are not asked
    assert "Retry" in section and "signing secret" in section and "restarted" in section


def test_golive_22_slack_scopes_are_only_those_the_code_uses():
    """Each scope the manifest asks for has a Web API call or event in bot/ that needs it."""
    needs = {
        "chat:write": ("chat_postMessage", "chat_update"),
        "im:history": ("message.im",),
        "im:write": ("conversations_open",),
        "groups:history": ("conversations_history",),
        "files:read": ("url_private",),
        "commands": ("SLASH_COMMAND",),
    }
    code = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "platforms" / "slack").rglob("*.py")
    )
    manifest = json.loads((ROOT / "manifests" / "slack" / "manifest.json").read_text())
    code += json.dumps(manifest["settings"]["event_subscriptions"])
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        assert scope in needs, f"{scope}: nothing in bot/ needs it"
        assert any(use in code for use in needs[scope]), scope


def test_golive_22_export_to_a_missing_folder_says_what_to_do(tmp_path):
    env = cli_env(tmp_path / "home")
    result = schoolbot(tmp_path, env, "accounts", "export", "-o", "no/such/folder/register.csv")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "There is no folder no/such/folder" in result.stderr
    assert "Create the folder first" in result.stderr
    assert schoolbot(tmp_path, env, "accounts", "export", "-o", "register.csv").returncode == 0
    assert (tmp_path / "register.csv").read_text().startswith("Site Name/Purpose")
