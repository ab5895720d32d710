"""What every door shares: bodies over a megabyte refused before any other check, the
replay check (kept across a restart), and readiness while the database is locked."""

from __future__ import annotations

import pytest

from tests.helpers import lock_the_database


@pytest.mark.issue(11, 3)
async def test_bodies_over_a_megabyte_are_refused_before_any_check(door):
    big = b'{"type": "message", "text": "' + b"x" * (1024 * 1024) + b'"}'
    assert (await door.signed_slack(big, "application/json")).status == 413
    assert (await door.teams.post(None, raw=big)).status == 413


@pytest.mark.issue(11, 10)
async def test_a_replay_after_a_restart_is_still_refused(service_factory):
    """On SQLite the ack doesn't wait for the database (it would queue behind every turn),
    so the check is in memory first; a restart reads the recent keys back."""
    from bot.intake.guard import Replays

    service = service_factory()
    first = Replays(service.intake.first_request, service.intake.recent_request_ids)
    assert await first.first("slack:digest-1")
    assert not await first.first("slack:digest-1")  # a replay, answered from memory
    first.close(wait=True)  # the database write has landed
    restarted = Replays(service.intake.first_request, service.intake.recent_request_ids)
    assert not await restarted.first("slack:digest-1")
    assert await restarted.first("slack:digest-2")
    restarted.close(wait=True)


@pytest.mark.issue(11, 11)
async def test_readyz_fails_while_sqlite_is_write_locked(door, sqlite_url):
    assert await door.ready() == 200
    locker = lock_the_database(sqlite_url)
    try:
        assert await door.ready() == 503
        async with door.http.get(door.server.make_url("/healthz")) as health:
            assert health.status == 503
        async with door.http.get(door.server.make_url("/livez")) as live:
            assert live.status == 200
    finally:
        locker.close()
    assert await door.ready() == 200


@pytest.mark.issue(23, 30)
async def test_wording_readyz_says_a_locked_database_is_locked(door, sqlite_url):
    locker = lock_the_database(sqlite_url)
    try:
        async with door.http.get(door.server.make_url("/readyz")) as ready:
            assert ready.status == 503
            assert (await ready.json())["database"] == "locked"
    finally:
        locker.close()
