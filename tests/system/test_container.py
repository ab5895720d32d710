"""The container files say what the code does: the image's health check, run as written
against the real `schoolbot run`, passes while the database takes writes and fails while
it can't; its settings are ones the bot reads; compose's two instances share one database
and one data volume behind one address. (No container engine is needed: the image build
itself is described in docs/operations.md.)"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from tests.fakes.real_bot import database_url, real_bot
from tests.helpers import lock_the_database

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "compose.yaml").read_text(encoding="utf-8")
CADDYFILE = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
NOT_SETTINGS = {"PATH", "PYTHONUNBUFFERED", "SCHOOLBOT_HOME", "PIP_NO_CACHE_DIR"}
NOT_SETTINGS |= {"PIP_DISABLE_PIP_VERSION_CHECK"}


def healthcheck_command() -> list[str]:
    match = re.search(r"^HEALTHCHECK (?:.*\\\n)*\s*CMD (\[.*\])$", DOCKERFILE, flags=re.M)
    assert match, "the Dockerfile has a HEALTHCHECK in exec form"
    return json.loads(match.group(1))


async def run_healthcheck(port: int) -> int:
    command = healthcheck_command()
    assert command[0] == "python3"
    env = {**os.environ, "SCHOOLBOT_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(sys.executable, *command[1:], env=env)
    return await process.wait()


@pytest.mark.issue(26, 6)
async def test_the_image_health_check_asks_readyz_and_fails_while_the_database_cant_write(
    tmp_path,
):
    assert "/readyz" in " ".join(healthcheck_command())
    async with real_bot(tmp_path) as bot:
        assert await run_healthcheck(bot.port) == 0
        locker = lock_the_database(database_url(tmp_path))  # another program holds the lock
        try:
            assert await run_healthcheck(bot.port) != 0
        finally:
            locker.rollback()
            locker.close()
        assert await run_healthcheck(bot.port) == 0


@pytest.mark.issue(26, 6)
def test_the_image_runs_as_its_own_user_with_data_in_a_volume():
    assert len(re.findall(r"^FROM ", DOCKERFILE, flags=re.M)) == 2
    [user] = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.M)
    assert user not in ("root", "0")
    assert re.search(r'^VOLUME \["/data"\]$', DOCKERFILE, flags=re.M)
    assert re.search(r"^ENV .*SCHOOLBOT_DATA_DIR=/data", DOCKERFILE, flags=re.M | re.S)
    assert 'ENTRYPOINT ["schoolbot"]' in DOCKERFILE and 'CMD ["run"]' in DOCKERFILE
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"  # nothing goes in unless named: never a .env, data/ or .venv
    assert {"!.env", "!data", "!data/", "!.venv"}.isdisjoint(rules)


@pytest.mark.issue(26, 6)
def test_every_setting_the_container_files_give_is_one_the_bot_reads():
    known = {field.alias for field in Settings.model_fields.values()} | NOT_SETTINGS
    in_dockerfile = set(re.findall(r"\b([A-Z][A-Z_]+)=", DOCKERFILE)) - {"BASE", "PIP_CERT"}
    x_bot = COMPOSE.split("services:")[0]
    in_compose = set(re.findall(r"^    ([A-Z][A-Za-z_]+):", x_bot, flags=re.M))
    assert in_dockerfile and in_compose
    assert in_dockerfile <= known and in_compose <= known, (in_dockerfile | in_compose) - known


@pytest.mark.issue(26, 6)
def test_compose_runs_two_instances_on_one_database_behind_one_address():
    services = re.findall(r"^  ([a-z0-9]+):$", COMPOSE.split("services:")[1], flags=re.M)
    assert {"db", "migrate", "bot1", "bot2", "proxy"} <= set(services)
    assert "postgresql://" in COMPOSE and "- data:/data" in COMPOSE
    assert COMPOSE.count("<<: *bot") == 3  # migrate, bot1 and bot2: one image, one setup
    assert "service_completed_successfully" in COMPOSE  # the schema first, then the bots
    assert re.search(r"reverse_proxy bot1:3978 bot2:3978", CADDYFILE)
    assert "health_uri /readyz" in CADDYFILE and "respond /metrics 404" in CADDYFILE
