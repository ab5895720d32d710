"""The web workspace on a real `schoolbot run`: the link the terminal chat prints opens the
case in the running server, and neither process writes the link's token to its output."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.fakes.real_bot import real_bot, stopped_cleanly
from tests.helpers import free_port


def _cli(env: dict[str, str], cwd: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


async def test_workspace_link_from_the_terminal_opens_the_case_in_the_real_server(
    tmp_path,
):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with real_bot(tmp_path, SCHOOLBOT_PORT=str(port), SCHOOLBOT_PUBLIC_URL=public) as bot:
        env = bot.env
        _cli(env, tmp_path, "roles", "add", "dsl1", "dsl")
        report = "report abuse\na pupil\nno\nbullying or abuse\ninstagram\nno link\nyesterday 8pm\nMARKER-TEXT\ndone\nno\nno\n"
        assert "CB-0001" in _cli(env, tmp_path, "chat", "--as", "dan", stdin=report)
        shown = _cli(
            env, tmp_path, "chat", "--as", "dsl1", "--name", "Mr Patel",
            stdin="case CB-0001\nopen in browser\n",
        )  # fmt: skip
        match = re.search(rf"{re.escape(public)}/web/sign-in/(\S+)", shown)
        assert match, shown
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(match.group(0)) as page:
                assert page.status == 200
                text = await page.text()
            assert "CB-0001" in text and "MARKER-TEXT" in text and "Reported by" in text
            async with browser.get(match.group(0), allow_redirects=False) as again:
                assert again.status == 403  # used once
        output = await stopped_cleanly(bot, signal.SIGINT)
    assert f"Web workspace: {public}/web/" in output
    assert match.group(1) not in output and "MARKER-TEXT" not in output
    assert "GET /web/sign-in/…" in output  # the access line is there, without the token
