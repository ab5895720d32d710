"""Issue 23, points 27 to 29, as a person meets them in the `schoolbot` command: no log
line in the terminal chat, `roles list` after switching packs, `/quit`, and `backup/` kept
out of git."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import ROOT, SCHOOLBOT, env_for, lock_the_database, run_cli


@pytest.mark.issue(23, 27)
def test_no_technical_line_is_printed_into_the_terminal_chat(tmp_path):
    run_cli(tmp_path, "chat", "--as", "amy", stdin="hello\n")
    locker = lock_the_database(f"sqlite:///{tmp_path / 'data' / 'schoolbot.db'}")
    try:
        chat = run_cli(tmp_path, "chat", "--as", "amy", stdin="I got a friend request\n")
    finally:
        locker.close()
    seen = chat.stdout + chat.stderr
    assert "OperationalError" not in seen and "handle_message" not in seen, seen
    assert "database unavailable" in (tmp_path / "data" / "chat.log").read_text()


@pytest.mark.issue(23, 28)
def test_roles_list_after_switching_packs_warns_of_a_role_the_pack_lacks(tmp_path):
    assert run_cli(tmp_path, "roles", "add", "kim", "headteacher").returncode == 0
    switched = env_for(tmp_path, SCHOOLBOT_POLICY="dukeries-academy")  # no headteacher role
    listed = subprocess.run(
        [*SCHOOLBOT, "roles", "list"], env=switched, capture_output=True, text=True,
        cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert "kim" in listed.stdout and "(not in this pack)" in listed.stdout, listed.stdout
    assert "Warning: headteacher is not a role in" in listed.stdout
    assert "schoolbot roles remove USER_ID headteacher" in listed.stdout


@pytest.mark.issue(23, 29)
def test_quit_says_goodbye_and_whether_answers_wait(tmp_path):
    left = run_cli(tmp_path, "chat", "--as", "amy", stdin="I got a friend request\n/quit\n")
    assert "Your answers so far are saved" in left.stdout, left.stdout
    idle = run_cli(tmp_path, "chat", "--as", "bob", stdin="/quit\n")
    assert "Bye for now" in idle.stdout and "answers so far" not in idle.stdout


@pytest.mark.issue(23, 29)
def test_the_readmes_backup_folder_is_not_tracked_by_git(tmp_path):
    """docs/setup.md copies the database and the evidence files into backup/."""
    probe = ROOT / "backup" / "evidence" / "ab" / "photo.png"
    made = [p for p in (ROOT / "backup", probe.parent.parent, probe.parent) if not p.exists()]
    try:
        probe.parent.mkdir(parents=True, exist_ok=True)
        probe.touch()
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(probe.relative_to(ROOT))], cwd=ROOT, timeout=30
        )
        assert ignored.returncode == 0, "backup/ is not git-ignored"
    finally:
        probe.unlink(missing_ok=True)
        for folder in reversed(made):
            folder.rmdir()


@pytest.mark.issue(23, 30)
def test_wording_policy_check_names_the_file_as_typed(tmp_path):
    (tmp_path / "my-school.toml").write_text('[school]\nname = "x"\n', encoding="utf-8")
    checked = run_cli(tmp_path, "policy", "check", "my-school.toml")
    assert checked.returncode == 1
    assert checked.stderr.startswith("my-school.toml is not a valid policy pack:"), checked.stderr
