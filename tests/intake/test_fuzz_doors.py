"""Property tests: every inbound door, sent generated payloads of the right and the wrong
shapes, correctly signed, never answers 5xx, never logs a traceback or a request body, and
is healthy afterwards (ready, and a normal message still gets its reply).

The bot runs in a thread of its own (tests/fakes/edge_servers.BotThread) so that Hypothesis can
drive it example by example. The number of examples is kept small so the suite stays
fast; bench/fuzz_bench.py is the longer run against a real `schoolbot run`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.storage import db
from bot.web.webhook import PATH, signature
from tests.fakes.edge_servers import BotThread, assert_clean_log, slack_signature, trapped_log
from tests.fakes.fake_connector import APP_ID, TENANT, FakeConnector
from tests.fakes.fuzz_strategies import (
    comment,
    slack_command,
    slack_event,
    slack_interaction,
    teams_activity,
)
from tests.fakes.webhook_client import ACCOUNT
from tests.fakes.webhook_client import SECRET as HOOK_SECRET
from tests.helpers import FakeClock, fresh_postgres, postgres_problem

EXAMPLES = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # no example database written into the project folder
)
FORM = "application/x-www-form-urlencoded"


def start(
    tmp_path_factory: pytest.TempPathFactory, database: str = "sqlite", **options: Any
) -> Iterator[BotThread]:
    folder = tmp_path_factory.mktemp("fuzz")
    if database == "postgresql":
        if problem := postgres_problem():
            pytest.skip(problem)
        urls: Iterator[str] = fresh_postgres()
    else:
        urls = iter([f"sqlite:///{folder / 'fuzz.db'}"])
    for url in urls:
        db.upgrade(url)
        clock = FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
        bot = BotThread(url, folder, clock, **options).start()
        try:
            yield bot
        finally:
            bot.stop()


@pytest.fixture(scope="module")
def connector() -> Iterator[FakeConnector]:
    fake = FakeConnector().start()
    yield fake
    fake.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def running(request, tmp_path_factory, connector) -> Iterator[BotThread]:
    """Slack, the webhook and Teams (signed), on one server, on each database."""
    yield from start(tmp_path_factory, request.param, connector=connector)


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory) -> Iterator[BotThread]:
    fake = FakeConnector().start()
    try:
        yield from start(tmp_path_factory, connector=fake, anonymous=True)
    finally:
        fake.close()


class Sender:
    """Signs and posts like each platform does; counts the answers."""

    def __init__(self, bot: BotThread):
        self.bot, self.http, self.statuses = bot, requests.Session(), Counter[int]()

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        status = self.http.post(self.bot.address(path), data=body, headers=headers).status_code
        self.statuses[status] += 1
        return status

    def slack(self, body: str, content_type: str) -> int:
        raw, ts = body.encode(), str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": slack_signature(ts, raw),
        }
        return self._post("/slack/events", raw, headers)

    def teams(self, activity: Any, token: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._post("/api/messages", json.dumps(activity).encode(), headers)

    def hook(self, raw: bytes) -> int:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Schoolbot-Timestamp": ts,
            "X-Schoolbot-Signature": signature(HOOK_SECRET, ts, raw),
        }
        return self._post(PATH, raw, headers)

    def assert_healthy(self) -> None:
        """Ready, and a plain DM still gets its reply."""
        assert self.http.get(self.bot.address("/readyz")).status_code == 200
        fake = self.bot.edges.slack.fake
        before = len(fake.called("chat.postMessage", channel="DUOK"))
        event = {
            "type": "event_callback",
            "event_id": f"EvOK{time.monotonic_ns()}",
            "event": {"type": "message", "channel_type": "im", "user": "UOK", "channel": "DUOK"},
        }
        event["event"]["text"] = "hello"
        assert self.slack(json.dumps(event), "application/json") == 200
        deadline = time.monotonic() + 20
        while len(fake.called("chat.postMessage", channel="DUOK")) == before:
            assert time.monotonic() < deadline, "no reply to a plain DM"
            time.sleep(0.05)


def fuzz(bot: BotThread, send: Any) -> Counter[int]:
    """Run `send` over Hypothesis' examples; then settle, check health and the log."""
    sender = Sender(bot)
    with trapped_log() as records:
        send(sender)
        bot.settle()
        sender.assert_healthy()
    assert_clean_log(records)
    assert not [s for s in sender.statuses if s >= 500], sender.statuses
    return sender.statuses


def test_fuzz_slack_events(running):
    file_url = running.edges.slack.fake.file_url("photo.png")

    def run(sender: Sender) -> None:
        @EXAMPLES
        @given(body=slack_event(file_url))
        def one(body: str) -> None:
            assert sender.slack(body, "application/json") < 500, body[:300]

        one()

    fuzz(running, run)


def test_fuzz_slack_interactions_and_commands(running):
    def run(sender: Sender) -> None:
        @EXAMPLES
        @given(body=st.one_of(slack_interaction(), slack_command()))
        def one(body: str) -> None:
            assert sender.slack(body, FORM) < 500, body[:300]

        one()

    fuzz(running, run)


def test_fuzz_slack_garbage_signed(running):
    def run(sender: Sender) -> None:
        @EXAMPLES
        @given(raw=st.binary(max_size=300), form=st.booleans())
        def one(raw: bytes, form: bool) -> None:
            body = raw.decode("latin-1")
            assert sender.slack(body, FORM if form else "application/json") < 500

        one()

    fuzz(running, run)


def test_fuzz_teams_signed(running, connector):
    def run(sender: Sender) -> None:
        @EXAMPLES
        @given(activity=teams_activity(connector.base_url, APP_ID, TENANT))
        def one(activity: Any) -> None:
            assert sender.teams(activity, connector.sign()) < 500, json.dumps(activity)[:300]

        one()

    fuzz(running, run)


def test_fuzz_teams_anonymous(anonymous):
    base = anonymous.options["connector"].base_url

    def run(sender: Sender) -> None:
        @EXAMPLES
        @given(activity=teams_activity(base, APP_ID, TENANT))
        def one(activity: Any) -> None:
            assert sender.teams(activity, None) < 500, json.dumps(activity)[:300]

        one()

    fuzz(anonymous, run)


def test_fuzz_comment_webhook(running):
    def run(sender: Sender) -> None:
        @EXAMPLES
        @given(body=st.one_of(comment(ACCOUNT).map(json.dumps), st.text(max_size=200)))
        def one(body: str) -> None:
            assert sender.hook(body.encode("utf-8", "surrogatepass")) < 500, body[:300]

        one()

    fuzz(running, run)
