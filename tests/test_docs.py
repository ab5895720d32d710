"""The README and docs/ say what the code does: how to back up the data folder, the clause
reference as the command writes it today, shell examples that paste cleanly, and every
Slack scope the manifest asks for explained."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.helpers import ROOT, fresh_shell_env, run_schoolbot


@pytest.mark.issue(10, 11)
def test_the_docs_say_how_to_back_up_and_protect_the_data_folder():
    setup = (ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    section = setup.split("## Back up and protect")[1].split("\n## ")[0]
    assert "sqlite3" in section and ".backup" in section  # a consistent copy while it runs
    assert "pg_dump" in section
    assert "0700" in section and "0600" in section
    assert "evidence" in section


# --- the clause reference, kept up to date -----------------------------------------------

DOC = ROOT / "docs" / "policy-clauses.md"


@pytest.mark.issue(10, 21)
def test_docs_policy_clauses_is_what_the_command_writes_today(tmp_path):
    """Fails when the code or a pack changed and the reference was not written again."""
    printed = run_schoolbot(tmp_path, fresh_shell_env(tmp_path), "policy", "clauses")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == DOC.read_text(encoding="utf-8"), (
        "docs/policy-clauses.md is stale: run "
        "`.venv/bin/schoolbot policy clauses --write docs/policy-clauses.md`"
    )
    written = run_schoolbot(
        tmp_path, fresh_shell_env(tmp_path), "policy", "clauses", "--write", str(tmp_path / "c.md")
    )
    assert written.returncode == 0 and (tmp_path / "c.md").read_text() == printed.stdout


@pytest.mark.issue(10, 21)
def test_one_row_per_clause_with_each_packs_section():
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


@pytest.mark.issue(10, 21)
def test_the_code_and_packs_cite_the_reference_that_ships():
    sources = [
        ROOT / "bot" / "domain" / "policy.py",
        *sorted((ROOT / "bot" / "policies").glob("*.toml")),
    ]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "POLICY-CLAUSES.md" not in text, path.name
        assert "docs/policy-clauses.md" in text, path.name
    assert DOC.is_file()


# --- examples paste cleanly, Slack scopes explained ----------------------------------------


def documentation() -> str:
    """The README and every page in docs/, one after another."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


@pytest.mark.issue(10, 22)
def test_every_shell_example_in_the_docs_is_valid_shell(tmp_path):
    blocks = re.findall(r"```sh\n(.*?)```", documentation(), flags=re.S)
    assert len(blocks) > 5
    for block in blocks:
        script = "\n".join(line.strip() for line in block.splitlines())
        checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert checked.returncode == 0, f"{checked.stderr}\n{script}"


@pytest.mark.issue(10, 22)
def test_the_slack_page_explains_every_scope_the_manifest_asks_for():
    manifest = json.loads((ROOT / "manifests" / "slack" / "manifest.json").read_text())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    section = (ROOT / "docs" / "slack.md").read_text(encoding="utf-8")
    explained = dict(re.findall(r"^\s*\| `([a-z:._]+)` \| (.+) \|$", section, flags=re.M))
    assert set(scopes) == set(explained)
    assert "channels:history" in section and "users:read" in section  # why they are not asked
    assert "Retry" in section and "signing secret" in section and "restarted" in section


def test_the_docs_commands_rewrite_only_their_own_section(tmp_path):
    """`schoolbot docs conversations --write` and `docs diagrams --write`, run as the
    installed command, replace what is between their markers and keep the rest."""
    from bot.cli.docs import TABLE_END, TABLE_START
    from bot.dialogs.diagram import END, START

    page = tmp_path / "page.md"
    page.write_text(
        f"# Title\n\n{TABLE_START}\nSTALE-TEXT\n{TABLE_END}\n\n{START}\nSTALE-TEXT\n{END}\n\nEnd.\n"
    )
    env = fresh_shell_env(tmp_path / "home")
    for command in ("conversations", "diagrams"):
        done = run_schoolbot(tmp_path, env, "docs", command, "--write", str(page))
        assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert text.startswith("# Title\n") and text.endswith("End.\n")
    assert "STALE-TEXT" not in text
    assert "| Friend or follow request |" in text and "```mermaid" in text
