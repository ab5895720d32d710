"""The Teams door under hostile or broken input, over real HTTP with real tokens from the fake
connector: JSON nested deep, activities missing what every turn needs, invokes answered in
JSON, a database outage heard as "try again", and no names or references in the log."""

from __future__ import annotations

import json

import pytest

from bot.dispatch.service import DB_DOWN
from tests.fakes.edge_servers import MARKER, assert_clean_log, edges
from tests.helpers import lock_the_database


@pytest.mark.issue(11, 3)
async def test_teams_body_nested_50000_deep_is_400_even_signed(door, caplog):
    deep = b'{"type": "message", "value": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = await door.teams.post(None, raw=deep)
    assert response.status == 400
    assert_clean_log(caplog.records)


@pytest.mark.issue(11, 7)
async def test_teams_activity_without_conversation_is_400(door, caplog):
    activity = door.teams.activity("staff", "hello")
    del activity["conversation"]
    response = await door.teams.post(activity)
    assert response.status == 400
    assert_clean_log(caplog.records)


@pytest.mark.issue(11, 7)
async def test_adaptive_card_action_submit_invoke_is_answered_in_json(door, caplog):
    activity = door.teams.activity("staff", kind="invoke")
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {"action": {"type": "Action.Submit", "data": {"x": 1}}}
    response = await door.teams.post(activity)
    assert response.status < 500
    json.loads(await response.text() or "null")  # whatever it says, it is JSON
    assert_clean_log(caplog.records)


@pytest.mark.issue(11, 7)
async def test_teams_during_a_database_outage_hears_try_again(
    sqlite_url, clock, tmp_path, fake, caplog
):
    async with edges(sqlite_url, clock, tmp_path, connector=fake, lock_timeout=0.1) as running:
        locker = lock_the_database(sqlite_url)
        try:
            response = await running.teams.post(
                running.teams.activity("newstaff", "friend request")
            )
        finally:
            locker.close()
        assert response.status == 200
        assert DB_DOWN.split(",")[0] in running.teams.last("newstaff")


@pytest.mark.issue(11, 7)
async def test_anonymous_activity_without_service_url_is_400(sqlite_url, clock, tmp_path, fake):
    async with edges(sqlite_url, clock, tmp_path, connector=fake, anonymous=True) as running:
        activity = running.teams.activity("staff", "hello")
        del activity["serviceUrl"]
        assert (await running.teams.post(activity, token=None)).status == 400
        assert (await running.teams.post(running.teams.activity("a", "hi"), token=None)).ok


@pytest.mark.issue(11, 8)
async def test_teams_failures_log_no_names_or_references(sqlite_url, clock, tmp_path, fake, caplog):
    async with edges(sqlite_url, clock, tmp_path, connector=fake, lock_timeout=0.1) as running:
        locker = lock_the_database(sqlite_url)
        try:
            activity = running.teams.activity("newstaff", f"report {MARKER}")
            activity["from"]["name"] = "Ms Marker-Person"
            await running.teams.post(activity)
        finally:
            locker.close()
    assert_clean_log(caplog.records, "Ms Marker-Person", "personal-newstaff")
