"""A disposed case's alert in Slack is replaced by a short notice (chat.update), deleted
where Slack won't edit it (chat.delete), and left alone once gone (message_not_found):
issue 24, point 3, over real HTTP against the fake Slack Web API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress
from bot.features.cases import cards
from bot.records.retention import RetentionSweep
from bot.storage.tables import Outbox
from tests.fakes.fake_slack import blocks_text
from tests.fakes.slack_harness import DSL_CHANNEL
from tests.helpers import grant


async def report_and_close(bot, user: str, ref: str, n: int):
    await bot.say(user, "friend request")
    await bot.answer(
        user, "A pupil (at our school or any other school)", "No", "Instagram", "No", "No"
    )
    assert f"Your reference is {ref}" in bot.last_dm(user)
    alerts = await bot.fake.wait_for("chat.postMessage", n, channel=DSL_CHANNEL)
    [alert] = [a for a in alerts if ref in blocks_text(a)]
    closed = ButtonPress("slack", "UDSL", cards.CASE_CLOSE, ref, text="Spoke to them", name="Dee")
    await asyncio.to_thread(bot.service.press, closed)
    return alert


async def dispose_all(bot, clock) -> None:
    """Long after the 6 years: the first sweep gives the review list's 30 days' notice,
    the one 31 days later disposes of them."""
    clock.current = datetime(2059, 12, 1, tzinfo=UTC)
    assert await asyncio.to_thread(RetentionSweep(bot.service.kernel).sweep) == 0
    clock.current = datetime(2060, 1, 1, tzinfo=UTC)
    assert await asyncio.to_thread(RetentionSweep(bot.service.kernel).sweep) >= 1


def retractions(bot) -> list[Outbox]:
    with bot.service.kernel.session() as session:
        rows = session.exec(select(Outbox)).all()
    return [r for r in rows if r.message.get("retract")]


@pytest.mark.issue(24, 3)
async def test_slack_alert_of_a_disposed_case_is_replaced_deleted_or_left_gone(bot, clock):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    first = await report_and_close(bot, "U1", "FR-0001", 1)
    second = await report_and_close(bot, "U2", "FR-0002", 2)
    third = await report_and_close(bot, "U3", "FR-0003", 3)
    bot.fake.uneditable.add((DSL_CHANNEL, second.response["ts"]))  # Slack won't edit it
    bot.fake.delete(third)  # someone, or Slack's own retention, deleted it already
    before = len(bot.fake.called("chat.update", channel=DSL_CHANNEL))

    await dispose_all(bot, clock)
    updates = await bot.fake.wait_for("chat.update", before + 3, channel=DSL_CHANNEL, timeout=20)
    [replaced] = [u for u in updates[before:] if u.args["ts"] == first.response["ts"]]
    assert "FR-0001: this alert's record has been disposed of" in blocks_text(replaced)
    assert "Instagram" not in blocks_text(replaced) and "actions" not in blocks_text(replaced)
    [deleted] = await bot.fake.wait_for("chat.delete", channel=DSL_CHANNEL)
    assert deleted.args["ts"] == second.response["ts"]
    assert (DSL_CHANNEL, second.response["ts"]) in bot.fake.deleted
    # The one already gone: Slack said message_not_found, and nothing is retried.
    [gone] = [u for u in updates[before:] if u.args["ts"] == third.response["ts"]]
    assert gone.response == {"ok": False, "error": "message_not_found"}
    for _ in range(100):
        if all(r.status == "sent" for r in retractions(bot)):
            break
        await asyncio.sleep(0.05)
    done = retractions(bot)
    assert {r.status for r in done} == {"sent"} and {r.target for r in done} >= {"dsl"}
    assert bot.fake.called("chat.delete", ts=third.response["ts"]) == []
