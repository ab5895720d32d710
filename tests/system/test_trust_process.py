"""Issue 25 point 1: `schoolbot run` as a real process serving two schools with different
packs from one database, and a school added with `schoolbot schools add` while it runs
served from the next scheduler tick."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp
import pytest

from tests.helpers import SCHOOLBOT, env_for, free_port

DUKERIES, KINGS, HARMONIZE = (
    "The Dukeries Academy",
    "King James's School, Knaresborough",
    "Harmonize Academy",
)


def schoolbot(env: dict[str, str], cwd, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*SCHOOLBOT, *args], env=env, capture_output=True, text=True, cwd=cwd, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done


async def schools_ready(http: aiohttp.ClientSession, port: int, want: list[str]) -> dict:
    """/readyz once it names `want`; a real process starting or ticking: polled."""
    body: dict = {}
    for _ in range(300):
        try:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                body = await response.json()
                if response.status == 200 and body.get("schools") == want:
                    return body
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never named {want}: {body}")


@pytest.mark.issue(25, 1)
async def test_1_one_process_serves_two_schools_and_picks_up_a_third(database_url, tmp_path):
    env = env_for(
        tmp_path,
        DATABASE_URL=database_url,
        SCHOOLBOT_POLICY="dukeries-academy",
        SCHOOLBOT_TICK_SECONDS="0.2",
    )
    schoolbot(env, tmp_path, "schools", "add", "kings", "--pack", "king-jamess-school")
    port = free_port()
    process = subprocess.Popen(
        [*SCHOOLBOT, "run", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            body = await schools_ready(http, port, [DUKERIES, KINGS])
            assert body["database"] == "ok"
            schoolbot(env, tmp_path, "schools", "add", "harmonize", "--pack", "harmonize-academy")
            await schools_ready(http, port, [DUKERIES, KINGS, HARMONIZE])
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"schoolbot for {DUKERIES}, {KINGS} on http://" in output
    assert "school 3 added while running: now served" in output
