"""A fresh clone stands alone and looks after its data: the official schemas are carried in
the repository, the data folder and database are private to the bot's user, `.env` and the
database are found the same way from any folder, the licence is declared as SPDX, the
install ends by running the installed command, and a failed export says what to do.
Most tests run the real `schoolbot` command in a fresh environment.
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

from tests.fakes.teams_client import CARD_SCHEMA
from tests.helpers import ROOT, SCHEMAS, SCHOOLBOT, fresh_shell_env, run_schoolbot

# A path built to a folder outside the repo named after the word below: with "../", with
# slashes round it, or as a quoted path part. Spelt in pieces so this file does not match.
_WORD = "sha" + "red"
SHARED_PATH = re.compile(rf"""\.\./{_WORD}|/{_WORD}/|"{_WORD}" */|/ *"{_WORD}"|['"]{_WORD}['"]""")


# --- The official schemas live in the repository ------------------------------------------

VENDORED = {
    "adaptive-cards": "adaptive-card-1.5.json",
    "slack-manifest": "manifest.schema.2.0.0.json",
    "teams-manifest": "MicrosoftTeams.schema.json",
}


@pytest.mark.issue(10, 1)
@pytest.mark.parametrize("folder", sorted(VENDORED))
def test_each_schema_is_in_the_repo_with_its_licence_and_source(folder):
    here = SCHEMAS / folder
    schema = json.loads((here / VENDORED[folder]).read_text(encoding="utf-8"))
    assert "json-schema.org" in schema["$schema"]
    assert "Permission is hereby granted" in (here / "LICENSE").read_text(encoding="utf-8")
    source = (here / "SOURCE.md").read_text(encoding="utf-8")
    assert VENDORED[folder] in source
    assert re.search(r"https://github\.com/[\w.-]+/[\w.-]+/blob/[0-9a-f]{40}/", source)
    assert "version" in source.lower()


@pytest.mark.issue(10, 1)
def test_nothing_in_bot_tests_or_bench_builds_a_path_to_a_shared_folder():
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


@pytest.mark.issue(10, 1)
def test_the_card_schema_the_teams_tests_use_is_inside_the_repo():
    assert CARD_SCHEMA.resolve().is_relative_to(ROOT.resolve()) and CARD_SCHEMA.is_file()


@pytest.mark.issue(10, 1)
def test_a_copy_with_nothing_beside_it_validates_the_manifests(tmp_path):
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
        env=fresh_shell_env(clone / "home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "skipped" not in result.stdout and "passed" in result.stdout


# --- The data folder and database are private to the bot's own user ----------------------


def private(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


@pytest.mark.issue(10, 11)
def test_data_folder_database_and_evidence_are_readable_by_their_owner_only(
    tmp_path,
):
    home = tmp_path / "home"
    result = subprocess.run(
        [*SCHOOLBOT, "roles", "add", "dsl1", "dsl"],
        cwd=tmp_path,
        env=fresh_shell_env(home),
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

    from bot.kernel.evidence_folder import FolderEvidenceStore

    old = os.umask(0o022)
    try:
        stored = FolderEvidenceStore(data / "evidence").put("ab" * 32, b"screenshot bytes")
    finally:
        os.umask(old)
    assert stat.S_IMODE((data / "evidence").stat().st_mode) == 0o700
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


@pytest.mark.issue(10, 11)
def test_a_database_left_readable_by_an_older_version_is_tightened(tmp_path):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True, mode=0o755)
    (home / "data").chmod(0o755)
    assert run_schoolbot(tmp_path, fresh_shell_env(home), "db", "upgrade").returncode == 0
    (home / "data" / "schoolbot.db").chmod(0o644)
    assert run_schoolbot(tmp_path, fresh_shell_env(home), "roles", "list").returncode == 0
    assert stat.S_IMODE((home / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "data" / "schoolbot.db").stat().st_mode) == 0o600


# --- `.env` and the database are found the same way from any folder -----------------------


@pytest.mark.issue(10, 12)
def test_a_command_from_another_folder_uses_the_same_env_and_database(tmp_path):
    home, here, there = tmp_path / "home", tmp_path / "here", tmp_path / "there"
    for folder in (home, here, there):
        folder.mkdir()
    # A role that only King James's pack has: it works only if home/.env was read, and the
    # pack file it names was found in the home folder too.
    shutil.copy(ROOT / "bot" / "policies" / "king-jamess-school.toml", home / "our-pack.toml")
    (home / ".env").write_text("SCHOOLBOT_POLICY=our-pack.toml\n", encoding="utf-8")
    env = fresh_shell_env(home)

    first = run_schoolbot(here, env, "roles", "add", "mr-it", "director_of_it")
    assert first.returncode == 0, first.stderr
    database = home / "data" / "schoolbot.db"
    assert f"Created a new, empty database at {database}." in first.stderr

    listed = run_schoolbot(there, env, "roles", "list")
    assert listed.returncode == 0, listed.stderr
    assert "mr-it" in listed.stdout and "Director of IT" in listed.stdout
    assert "Created a new" not in listed.stderr
    assert not (here / "data").exists() and not (there / "data").exists()


@pytest.mark.issue(10, 12)
def test_without_a_home_setting_the_home_is_the_clone(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SCHOOLBOT_HOME"}
    code = "from bot.config import project_home; print(project_home())"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert Path(result.stdout.strip()) == ROOT.resolve()


# --- Licence, a visible install, and no scheduler chatter ---------------------------------


@pytest.mark.issue(10, 14)
def test_the_licence_is_apache_2_declared_as_an_spdx_string():
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


@pytest.mark.issue(10, 14)
def test_the_install_ends_by_running_the_installed_command(tmp_path):
    version = run_schoolbot(tmp_path, fresh_shell_env(tmp_path), "--version")
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


@pytest.mark.issue(10, 22)
def test_export_to_a_missing_folder_says_what_to_do(tmp_path):
    env = fresh_shell_env(tmp_path / "home")
    result = run_schoolbot(tmp_path, env, "accounts", "export", "-o", "no/such/folder/register.csv")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "There is no folder no/such/folder" in result.stderr
    assert "Create the folder first" in result.stderr
    assert run_schoolbot(tmp_path, env, "accounts", "export", "-o", "register.csv").returncode == 0
    assert (tmp_path / "register.csv").read_text().startswith("Site Name/Purpose")
