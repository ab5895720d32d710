"""The real `schoolbot` command: the server answers /healthz; the chat runs from a script."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.helpers import (
    FR_UP_TO_CONCERNING,
    SCHOOLBOT,
    env_for,
    free_port,
    make_service,
    run_cli,
)


async def test_healthz_reports_ok_and_a_dead_database(sqlite_url, clock, tmp_path):
    service = make_service(sqlite_url, "default", clock, tmp_path)
    async with TestServer(create_app(service)) as server, aiohttp.ClientSession() as http:
        response = await http.get(server.make_url("/healthz"))
        assert response.status == 200
        assert (await response.json())["database"] == "ok"
    dead = make_service("postgresql+psycopg://postgres@127.0.0.1:1/x", "default", clock, tmp_path)
    async with TestServer(create_app(dead)) as server, aiohttp.ClientSession() as http:
        response = await http.get(server.make_url("/healthz"))
        assert response.status == 503


async def test_run_command_starts_server_with_migrated_sqlite(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [*SCHOOLBOT, "run", "--port", str(port)],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        status = None
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        status = response.status
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        assert status == 200
        assert (tmp_path / "data" / "schoolbot.db").exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "schoolbot chat --as" in output
    assert "Slack: not configured" in output  # one line says Slack is off


def test_scripted_terminal_chat_reports_and_dsl_acknowledges(tmp_path):
    assert run_cli(tmp_path, "roles", "add", "dsl1", "dsl").returncode == 0
    staff = run_cli(
        tmp_path,
        "chat",
        "--as",
        "alice",
        "--name",
        "Ms A",
        stdin="a pupil sent me a friend request\nno\ninstagram\nno\nno\n",
    )
    assert staff.returncode == 0, staff.stderr
    assert "Your reference is FR-0001" in staff.stdout
    dsl = run_cli(tmp_path, "chat", "--as", "dsl1", "--name", "Mr D", stdin="\nAcknowledge\n")
    assert "Friend or follow request FR-0001" in dsl.stdout
    assert "you've acknowledged FR-0001" in dsl.stdout
    back = run_cli(tmp_path, "chat", "--as", "alice", stdin="")
    assert "picked up by Mr D" in back.stdout


def test_chat_resumes_after_the_process_ends(tmp_path):
    run_cli(tmp_path, "chat", "--as", "bob", stdin="report abuse\nme\n")
    again = run_cli(tmp_path, "chat", "--as", "bob", stdin="")
    assert "Welcome back" in again.stdout and "Where was it posted?" in again.stdout


def test_roles_cli_rejects_unknown_role(tmp_path):
    result = run_cli(tmp_path, "roles", "add", "u1", "wizard")
    assert result.returncode != 0 and "not a role in this policy pack" in result.stderr


def test_empty_slack_settings_mean_slack_is_off(monkeypatch):
    from bot.config import Settings
    from bot.platforms.slack.platform import mode

    def slack_configured(settings: Settings) -> bool:
        return mode(settings) is not None

    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", " ")
    assert not slack_configured(Settings(_env_file=None))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    assert slack_configured(Settings(_env_file=None))


@pytest.mark.issue(10, 5)
def test_cli_lists_and_shows_cases_with_the_reporter(tmp_path):
    assert run_cli(tmp_path, "roles", "add", "dsl1", "dsl").returncode == 0
    staff = run_cli(
        tmp_path,
        "chat",
        "--as",
        "alice",
        "--name",
        "Ms A",
        stdin="\n".join([*FR_UP_TO_CONCERNING, "no"]) + "\n",
    )
    assert "Your reference is FR-0001" in staff.stdout, staff.stdout
    listed = run_cli(tmp_path, "cases", "list")
    assert listed.returncode == 0, listed.stderr
    assert "FR-0001" in listed.stdout and "reported by Ms A" in listed.stdout
    shown = run_cli(tmp_path, "cases", "show", "fr-0001")
    assert shown.returncode == 0, shown.stderr
    assert "Reported by Ms A on" in shown.stdout
    assert "Who sent the request?" in shown.stdout
    missing = run_cli(tmp_path, "cases", "show", "FR-0099")
    assert missing.returncode != 0 and "There is no case FR-0099" in missing.stderr


@pytest.mark.issue(10, 8)
def test_roles_list_names_each_role_the_escalation_needs_without_a_holder(tmp_path):
    assert run_cli(tmp_path, "roles", "add", "dsl1", "dsl").returncode == 0
    listed = run_cli(tmp_path, "roles", "list")
    assert listed.returncode == 0, listed.stderr
    warnings = [line for line in listed.stdout.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        "Warning: nobody is Deputy DSL (deputy_dsl), so urgent alerts nobody acknowledges "
        "can't be passed on. Add someone: schoolbot roles add USER_ID deputy_dsl",
        "Warning: nobody is Senior Leadership Team (slt) or Headteacher (headteacher), so "
        "overdue and press comments reach nobody in SLT. Add someone: schoolbot roles add "
        "USER_ID slt",
        "Warning: nobody is Headteacher (headteacher), so account requests wait at that "
        "approval stage with nobody to decide them. Add someone: schoolbot roles add USER_ID "
        "headteacher",
    ]
    for role in ("deputy_dsl", "headteacher"):
        assert run_cli(tmp_path, "roles", "add", f"u-{role}", role).returncode == 0
    assert "Warning:" not in run_cli(tmp_path, "roles", "list").stdout
