"""A disposed case's alert in Teams is replaced by a short notice (update activity),
deleted where Teams won't take the edit (delete activity), and left alone once gone
(404): issue 24, point 3, over real HTTP against the fake Bot Connector."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress
from bot.features.cases import cards
from bot.records.retention import RetentionSweep
from bot.storage.tables import Outbox
from tests.fakes.teams_client import channel_id, install_in_team, mention, text_of
from tests.helpers import grant


async def report_and_close(teams, user: str, ref: str, n: int):
    await teams.say(user, "friend request")
    await teams.answer(user, "A pupil (at our school or any other school)", "No")
    await teams.say(user, "instagram")
    await teams.answer(user, "No", "No")
    assert f"Your reference is {ref}" in teams.last(user)
    alerts = await teams.fake.wait_for("create", n, conversation=channel_id("dsl"))
    [alert] = [a for a in alerts if ref in text_of(a)]
    closed = ButtonPress("teams", "aad-dsl", cards.CASE_CLOSE, ref, text="Spoke", name="Dee")
    await asyncio.to_thread(teams.service.press, closed)
    return alert


def retractions(teams) -> list[Outbox]:
    with teams.service.kernel.session() as session:
        return [r for r in session.exec(select(Outbox)) if r.message.get("retract")]


@pytest.mark.issue(24, 3)
async def test_teams_alert_of_a_disposed_case_is_replaced_deleted_or_left_gone(teams, clock):
    grant(teams.service, "aad-dsl", "dsl", platform="teams")
    await install_in_team(teams)
    assert "alerts will be posted" in await mention(teams, "dsl", "dsl", "use this channel for DSL")
    first = await report_and_close(teams, "alice", "FR-0001", 1)
    second = await report_and_close(teams, "bea", "FR-0002", 2)
    third = await report_and_close(teams, "cat", "FR-0003", 3)
    teams.fake.locked.add(second.activity_id)  # Teams won't take an edit of this one
    teams.fake.deleted.add(third.activity_id)  # someone deleted it in Teams already
    updates_before = len(teams.fake.called("update"))

    # Long after the 6 years: the first sweep gives the review list's 30 days' notice,
    # the one 31 days later disposes of them.
    clock.current = datetime(2059, 12, 1, tzinfo=UTC)
    assert await asyncio.to_thread(RetentionSweep(teams.service.kernel).sweep) == 0
    clock.current = datetime(2060, 1, 1, tzinfo=UTC)
    assert await asyncio.to_thread(RetentionSweep(teams.service.kernel).sweep) == 3
    for _ in range(400):
        done = retractions(teams)
        if done and all(r.status == "sent" for r in done):
            break
        await asyncio.sleep(0.05)
    assert done and {r.status for r in done} == {"sent"}

    updates = teams.fake.called("update")[updates_before:]
    [replaced] = [u for u in updates if u.activity_id == first.activity_id]
    assert "FR-0001: this alert's record has been disposed of" in text_of(replaced)
    assert "Friend or follow request" not in text_of(replaced)
    [deleted] = teams.fake.called("delete")
    assert deleted.activity_id == second.activity_id
    assert not [u for u in updates if u.activity_id == third.activity_id]  # 404: left gone
