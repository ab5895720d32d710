"""Property test for the two pages a Slack admin's browser opens to install the bot for a
school (`GET /slack/install`, `GET /slack/oauth_redirect`): any query string, cookie or
method answers below 500, logs no traceback and installs nothing."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.platforms.slack.oauth import install_link
from bot.storage.tables import SlackInstallation
from tests.fakes.edge_servers import assert_clean_log, trapped_log
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fake_slack_oauth import CLIENT_SECRET
from tests.fakes.slack_oauth_harness import oauth_bot
from tests.helpers import FakeClock

NAMES = st.sampled_from(["school", "until", "sig", "code", "state", "error"]) | st.text(max_size=8)
VALUES = st.one_of(
    st.text(max_size=60),
    st.integers(-(2**70), 2**70).map(str),
    st.just(install_link(CLIENT_SECRET, 1, time.time()).split("?", 1)[1]),  # a real one, nested
)


def signed(school: int) -> list[tuple[str, str]]:
    """A link's query as `schoolbot slack link` prints it (the school may not exist)."""
    return parse_qsl(install_link(CLIENT_SECRET, school, time.time()).split("?", 1)[1])


SIGNED = st.sampled_from([1, 40]).map(signed)
QUERIES = SIGNED | st.lists(st.tuples(NAMES, VALUES), max_size=6)
PATHS = st.sampled_from(["/slack/install", "/slack/oauth_redirect"])
METHODS = st.sampled_from(["GET", "GET", "POST", "HEAD"])
# What a browser can put in a cookie header: visible ASCII, no ';'.
COOKIES = st.none() | st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=";"), max_size=60
)


async def _visit(url: str, tmp_path: Path, requests: list) -> list[int]:
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    fake = await FakeSlack().start()
    try:
        async with oauth_bot(url, clock, tmp_path, fake) as bot:
            statuses = []
            for path, method, query, cookie in requests:
                headers = {"Cookie": f"slack-app-oauth-state={cookie}"} if cookie else {}
                async with bot.http.request(
                    method, bot.server.make_url(path), params=query, headers=headers
                ) as answer:
                    await answer.read()
                    statuses.append(answer.status)
            with Session(bot.service.engine) as session:
                assert session.exec(select(SlackInstallation)).all() == []
            return statuses
    finally:
        await fake.close()


@pytest.mark.issue(25, 3)
@given(st.lists(st.tuples(PATHS, METHODS, QUERIES, COOKIES), min_size=1, max_size=4))
@example([("/slack/install", "GET", signed(40), None)])  # signed, for no such school
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_install_pages_never_fail_on_what_a_browser_may_send(sqlite_url, tmp_path, requests):
    with trapped_log() as records:
        try:
            statuses = asyncio.run(_visit(sqlite_url, tmp_path, requests))
        except aiohttp.InvalidURL:
            return  # the client refused to build the address: nothing was sent
    assert all(status < 500 for status in statuses), statuses
    assert_clean_log(records)
