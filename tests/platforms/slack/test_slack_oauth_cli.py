"""Slack per school from the command line and as a real process: `schoolbot run` in OAuth
mode, `schoolbot secrets rotate`, `schoolbot slack map` and `schoolbot slack status`."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlmodel import Session, select

from bot.config import Settings
from bot.kernel.work import UnitOfWork
from bot.platforms.slack.installations import SlackInstallations, binding
from bot.platforms.slack.oauth import linked_school
from bot.platforms.slack.platform import SLACK
from bot.platforms.slack.token_keys import TokenKeys, TokenLocked
from bot.runtime import configure_logging
from bot.storage import db
from bot.storage.tables import AuditEvent, SlackInstallation, SlackWorkspaceSchool
from tests.helpers import SCHOOLBOT, add_schools, env_for, run_until_healthy

pytestmark = pytest.mark.issue(25, 3)
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TOKEN = "xoxe.xoxb-1-" + "a" * 140


def schoolbot(tmp_path: Path, url: str, *args: str, keys: str) -> subprocess.CompletedProcess[str]:
    env = env_for(tmp_path, DATABASE_URL=url, SLACK_TOKEN_KEYS=keys)
    return subprocess.run(
        [*SCHOOLBOT, *args], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )


def installed(url: str, keys: str) -> None:
    add_schools(db.make_engine(url), *((f"school-{n}", None) for n in range(2, 8)))
    store = SlackInstallations(UnitOfWork(db.make_engine(url)), TokenKeys.parse(keys), "1.2")
    inst = Installation(
        team_id="TA", team_name="Dukeries", bot_token=TOKEN, bot_refresh_token="xoxe-1-r",
        bot_token_expires_in=43_200, user_id="UINSTALLER",
    )  # fmt: skip
    store.save_for_school(inst, 2)


def test_secrets_rotate_reencrypts_every_token_with_the_first_key(tmp_path, sqlite_url):
    installed(sqlite_url, OLD)
    done = schoolbot(tmp_path, sqlite_url, "secrets", "rotate", keys=f"{NEW},{OLD}")
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 2 Slack token(s)" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    engine = db.make_engine(sqlite_url)
    with Session(engine) as session:
        row = session.exec(select(SlackInstallation)).one()
        assert TokenKeys([NEW]).open(row.bot_token or "", binding(row)) == TOKEN
        with pytest.raises(TokenLocked):
            TokenKeys([OLD]).open(row.bot_token or "", binding(row))
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "secrets rotated"))
        assert audit.one().detail["re_encrypted"] == 2

    again = schoolbot(tmp_path, sqlite_url, "secrets", "rotate", keys=NEW)
    assert "Re-encrypted 0 Slack token(s) with the first key; 2 already were." in again.stdout

    wrong = schoolbot(tmp_path, sqlite_url, "secrets", "rotate", keys=OLD)
    assert wrong.returncode == 1
    assert "school(s) 2: no key in SLACK_TOKEN_KEYS opens their tokens" in wrong.stderr


def test_slack_map_and_status(tmp_path, sqlite_url):
    installed(sqlite_url, OLD)
    mapped = schoolbot(tmp_path, sqlite_url, "slack", "map", "E1", "T7", "--school", "7", keys=OLD)
    assert mapped.returncode == 0, mapped.stderr
    with Session(db.make_engine(sqlite_url)) as session:
        assert session.get(SlackWorkspaceSchool, ("E1", "T7")).school_id == 7  # type: ignore[union-attr]
    status = schoolbot(tmp_path, sqlite_url, "slack", "status", keys=OLD)
    assert "School 2: Slack connected (workspace Dukeries" in status.stdout


async def test_schoolbot_run_in_oauth_mode_says_how_schools_install(tmp_path):
    env = env_for(
        tmp_path,
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="secret",
        SLACK_SIGNING_SECRET="signing",
        SLACK_TOKEN_KEYS=NEW,
    )
    output = await run_until_healthy(env, tmp_path)
    assert "Slack: installed per school (OAuth)" in output
    assert "schoolbot slack link --school N" in output


def test_slack_link_prints_a_signed_link_for_the_school(tmp_path, sqlite_url):
    env = env_for(
        tmp_path, SLACK_CLIENT_SECRET="s3cret", SCHOOLBOT_PUBLIC_URL="https://bot.trust.org"
    )
    done = subprocess.run(
        [*SCHOOLBOT, "slack", "link", "--school", "4"],
        env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    link = done.stdout.splitlines()[0]
    assert link.startswith("https://bot.trust.org/slack/install?school=4&until=")
    query = parse_qs(urlsplit(link).query)
    assert linked_school("s3cret", query, time.time()) == 4


def test_slacks_own_debug_lines_stay_off_even_at_debug_level():
    """slack-sdk logs whole answers at DEBUG, oauth.v2.access's tokens among them."""
    loggers = [logging.getLogger(name) for name in ("slack_sdk", "slack_bolt")]
    before = [logger.level for logger in loggers]
    try:
        configure_logging("DEBUG")
        assert [logger.getEffectiveLevel() for logger in loggers] == [logging.INFO] * 2
        configure_logging("WARNING")
        assert [logger.getEffectiveLevel() for logger in loggers] == [logging.WARNING] * 2
    finally:
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)


def test_oauth_mode_is_on_only_with_all_four_settings_and_says_what_it_ignores():
    four = {
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "secret",
        "SLACK_SIGNING_SECRET": "signing",
        "SLACK_TOKEN_KEYS": NEW,
    }
    for missing in four:
        partial = {k: v for k, v in four.items() if k != missing}
        assert SLACK.mode(Settings(_env_file=None, **partial)) != "oauth"
    both = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-1", **four)
    assert SLACK.mode(both) == "oauth"
    assert SLACK.status(both, "oauth").endswith("SLACK_BOT_TOKEN not used.")
