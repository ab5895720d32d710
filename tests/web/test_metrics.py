"""GET /metrics over real HTTP from the running app (Slack on, against the fake Slack):
refused without the token, and with it every family moves when the bot does the thing it
counts. The registry is the process's, shared with earlier tests, so counters are
compared before and after; gauges read from this test's own database are exact."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import scheduler
from bot.dispatch.daily_jobs import Ran
from bot.domain.messages import Message, Priority
from bot.observability import metrics
from bot.platforms import PLATFORM_NAMES
from tests.fakes.slack_harness import DSL_CHANNEL, Bot, running_slack_bot
from tests.helpers import grant, lock_the_database

TOKEN = "metrics-token-for-the-tests-only"
MARKER = "Qx7marker-Zelda-Oakfield"  # a name and words no label may ever carry
PUPIL = "A pupil (at our school or any other school)"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def watched(sqlite_url, clock, tmp_path) -> AsyncIterator[Bot]:
    async with running_slack_bot(
        sqlite_url, clock, tmp_path, SCHOOLBOT_METRICS_TOKEN=TOKEN
    ) as running:
        yield running


async def get_metrics(bot: Bot, authorization: str | None = f"Bearer {TOKEN}"):
    headers = {"Authorization": authorization} if authorization else {}
    response = await bot.http.get(bot.server.make_url("/metrics"), headers=headers)
    return response.status, await response.text(), response.headers


async def scrape(bot: Bot) -> Samples:
    status, text, headers = await get_metrics(bot)
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name` with these labels (summed over any others), 0 if absent."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


async def until(bot: Bot, ready: Callable[[Samples], bool], seconds: float = 20) -> Samples:
    """Scrape until `ready` holds (the bot works after its ack, and sends in the background)."""
    samples = await scrape(bot)
    for _ in range(int(seconds / 0.1)):
        if ready(samples):
            return samples
        await asyncio.sleep(0.1)
        samples = await scrape(bot)
    raise AssertionError(f"never ready: {sorted(k for k in samples if 'schoolbot' in k[0])}")


@pytest.mark.issue(26, 4)
async def test_metrics_are_refused_without_the_token(watched):
    status, text, headers = await get_metrics(watched, None)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert "schoolbot_" not in text
    for wrong in ("Bearer not-the-token", f"Basic {TOKEN}", "Bearer ", TOKEN):
        status, text, _ = await get_metrics(watched, wrong)
        assert status in (401, 403) and "schoolbot_" not in text, wrong
    assert (await get_metrics(watched, "Bearer not-the-token"))[0] == 403


@pytest.mark.issue(26, 4)
async def test_metrics_are_off_when_no_token_is_configured(bot):
    status, text, _ = await get_metrics(bot)  # the `bot` fixture sets no metrics token
    assert status == 403 and "SCHOOLBOT_METRICS_TOKEN" in text and "schoolbot_" not in text


@pytest.mark.issue(26, 4)
async def test_every_family_moves_with_what_it_counts(watched, clock, sqlite_url):
    bot = watched
    grant(bot.service, "UDSL", "dsl", platform="slack")
    before = await scrape(bot)

    # Requests and turns: a message with a name and words in it, and a refused signature.
    await bot.say("U1", f"hello, this is about {MARKER}")
    refused = await bot.post('{"type": "event_callback"}', "application/json", signature="v0=0")
    assert refused.status == 401
    # An urgent friend request: Slack answers 429 three times (the SDK's own two retries
    # included), so one post is rate-limited; then everything goes through.
    await bot.say("U2", "friend request")
    await bot.answer("U2", PUPIL, "No", "Instagram", "No")
    await bot.say("U2", "yes, she says she is scared to go home")  # worrying
    await bot.answer("U2", "No")  # nobody in danger right now
    for _ in range(3):
        bot.fake.fail_next("chat.postMessage", status=429, retry_after=0)
    await bot.answer("U2", "Done")  # no screenshots: the report is finished
    after = await until(
        bot,
        lambda s: (
            value(s, "schoolbot_sends_total", platform="slack", result="rate_limited")
            > value(before, "schoolbot_sends_total", platform="slack", result="rate_limited")
            and value(s, "schoolbot_sends_total", platform="slack", result="sent")
            > value(before, "schoolbot_sends_total", platform="slack", result="sent")
        ),
    )
    for name, labels in [
        ("schoolbot_requests_total", {"platform": "slack", "outcome": "ok"}),
        ("schoolbot_requests_total", {"platform": "slack", "outcome": "refused"}),
        ("schoolbot_turns_total", {"platform": "slack", "kind": "message", "outcome": "done"}),
        ("schoolbot_turn_seconds_count", {"platform": "slack", "kind": "message"}),
        ("schoolbot_turn_seconds_bucket", {"platform": "slack", "kind": "message", "le": "+Inf"}),
    ]:
        assert value(after, name, **labels) > value(before, name, **labels), (name, labels)

    # Outbox depth and age, per platform: a message for Teams, which isn't on here, waits.
    with bot.service.kernel.session() as session:
        bot.service.outbox.tell_user(session, "teams", "29:someone", Message("waiting"))
        bot.service.outbox.tell_user(
            session, "teams", "29:someone", Message("yearly"), priority=Priority.BULK
        )
        session.commit()
    clock.advance(minutes=5)
    now = await until(bot, lambda s: value(s, "schoolbot_outbox_depth", platform="slack") == 0)
    assert [c for c in bot.fake.called("chat.postMessage", channel=DSL_CHANNEL) if c.response]
    assert value(now, "schoolbot_outbox_depth", platform="teams") == 2
    # Issue 26: the depth by priority, so a deep bulk queue is told apart from stuck alerts.
    assert value(now, "schoolbot_outbox_waiting", platform="teams", priority="normal") == 1
    assert value(now, "schoolbot_outbox_waiting", platform="teams", priority="bulk") == 1
    assert value(now, "schoolbot_outbox_waiting", platform="teams", priority="urgent") == 0
    assert value(now, "schoolbot_outbox_oldest_age_seconds", platform="teams") == 300
    assert value(now, "schoolbot_outbox_depth", platform="slack") == 0
    assert value(now, "schoolbot_outbox_failed", platform="teams") == 0
    # The urgent case nobody has acknowledged, five minutes old.
    assert value(now, "schoolbot_urgent_unacknowledged") == 1
    assert value(now, "schoolbot_urgent_unacknowledged_oldest_age_seconds") == 300
    assert value(now, "schoolbot_database_up") == 1

    # The reminder sweep's duration, and the retention sweep's results: a conversation
    # left unfinished past the pack's 30 days is disposed of.
    await bot.say("U3", "friend request")
    clock.advance(days=45)
    await scheduler.tick(bot.service)
    assert await scheduler.retention_tick(bot.service) is Ran.RAN  # once that day
    swept = await scrape(bot)
    for name, labels in [
        ("schoolbot_reminder_sweep_seconds_count", {}),
        ("schoolbot_retention_sweeps_total", {"result": "ok"}),
        ("schoolbot_retention_disposed_total", {"record_type": "conversation"}),
        ("schoolbot_daily_jobs_total", {"job": "retention", "outcome": "ran"}),
    ]:
        assert value(swept, name, **labels) > value(before, name, **labels), (name, labels)
    assert value(swept, "schoolbot_retention_last_sweep_timestamp_seconds") > 0

    # Database errors: another program holds SQLite's write lock while a message comes in.
    locker = lock_the_database(sqlite_url)
    try:
        await bot.dm("U4", "hello")
        await until(
            bot,
            lambda s: (
                value(s, "schoolbot_database_errors_total", kind="operational")
                > value(before, "schoolbot_database_errors_total", kind="operational")
            ),
        )
    finally:
        locker.rollback()
        locker.close()
    assert_labels_are_vocabulary(await get_metrics(bot))


def assert_labels_are_vocabulary(scraped: tuple[int, str, object]) -> None:
    """No label carries a person, a reference or words: every value is from a fixed list."""
    status, text, _ = scraped
    assert status == 200 and MARKER not in text and "U1" not in text and "FR-" not in text
    allowed = {
        "platform": {*metrics.PLATFORMS, metrics.OTHER},
        "kind": {*metrics.TURN_KINDS, *metrics.DB_ERROR_KINDS, "other"},
        "outcome": {
            *metrics.TURN_OUTCOMES,
            *metrics.REQUEST_OUTCOMES,
            *metrics.DAILY_JOB_OUTCOMES,
            "other",
        },
        "job": {*metrics.DAILY_JOBS, "other"},
        "result": {*metrics.SEND_RESULTS, *metrics.SWEEP_RESULTS, "other"},
        "record_type": {*metrics.RECORD_TYPES, "other"},
        "priority": set(metrics.PRIORITIES),
        "level": {*metrics.ESCALATION_LEVELS, "other"},
        "le": None,  # histogram bucket bounds: numbers
    }
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("schoolbot_"):
            continue
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                assert label in allowed, (family.name, label)
                vocabulary = allowed[label]
                if vocabulary is None:
                    assert re.fullmatch(r"[0-9.e+-]+|\+Inf", label_value), label_value
                else:
                    assert label_value in vocabulary, (family.name, label, label_value)


@pytest.mark.issue(26, 4)
def test_every_platform_has_its_own_label():
    assert set(PLATFORM_NAMES) <= set(metrics.PLATFORMS)
    assert metrics.platform_label("U0123ABCD") == metrics.OTHER
    assert metrics.known("FR-0001", metrics.RECORD_TYPES) == metrics.OTHER
