"""The comment webhook under hostile or broken input, over real HTTP: impossible values and
timestamps get 400 or 401, never a false 503; ids (empty, raced, replayed) make one
comment; NUL is no reason to fail on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlmodel import select

from bot.storage.tables import Comment
from tests.fakes.edge_servers import assert_clean_log, edges
from tests.fakes.webhook_client import comment_body


@pytest.mark.issue(11, 3)
async def test_webhook_timestamp_of_5000_digits_gets_401(door):
    status, data = await door.hook.post(comment_body(), timestamp="9" * 5000)
    assert status == 401 and "timestamp" in data["error"].lower()


@pytest.mark.issue(11, 5)
@pytest.mark.parametrize(
    "body",
    [
        comment_body(account="²"),
        comment_body(account=9223372036854775808),
        json.dumps(comment_body(account=1)).replace('"account": 1', '"account": ' + "7" * 4400),
        comment_body(received_at="0001-01-01T00:00:00+05:00"),
        b"[" * 3000 + b"]" * 3000,
    ],
    ids=["unicode-digit", "int64-plus-one", "4400-digits", "year-one-east", "3000-deep"],
)
async def test_webhook_impossible_values_get_400(door, caplog, body):
    raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body))
    raw = raw.encode() if isinstance(raw, str) else raw
    status, data = await door.hook.post(raw)
    assert status == 400, data
    assert_clean_log(caplog.records)


@pytest.mark.issue(11, 6)
async def test_empty_id_is_no_id_and_never_a_false_503(door):
    first, _ = await door.hook.post(comment_body(id="", text="First"))
    second, data = await door.hook.post(comment_body(id="", text="Second"))
    assert (first, second) == (201, 201), data
    with door.service.kernel.session() as session:
        texts = [c.text for c in session.exec(select(Comment).order_by(Comment.id))]
    assert texts == ["First", "Second"]


@pytest.mark.issue(11, 6)
async def test_same_new_id_ten_times_at_once_on_postgresql_is_one_comment(
    migrated_pg_url, clock, tmp_path, caplog
):
    async with edges(migrated_pg_url, clock, tmp_path) as running:
        body = json.dumps(comment_body(id="ext-race")).encode()
        answers = await asyncio.gather(*(running.hook.post(body) for _ in range(10)))
        statuses = sorted(status for status, _ in answers)
        assert statuses == [200] * 9 + [201], answers
        assert {data["comment"] for _, data in answers} == {"CM-0001"}
        with running.service.kernel.session() as session:
            assert len(session.exec(select(Comment)).all()) == 1
    assert_clean_log(caplog.records)


@pytest.mark.issue(11, 6)
async def test_text_with_nul_on_postgresql_is_stored_without_it(migrated_pg_url, clock, tmp_path):
    async with edges(migrated_pg_url, clock, tmp_path) as running:
        status, data = await running.hook.post(comment_body(text="Trip\x00 letter?"))
        assert status == 201, data
        with running.service.kernel.session() as session:
            assert session.exec(select(Comment)).one().text == "Trip letter?"


@pytest.mark.issue(11, 10)
async def test_replayed_webhook_body_without_id_creates_one_comment(door):
    body = json.dumps(comment_body(id=...)).encode()
    ts = int(time.time())
    first, one = await door.hook.post(body, timestamp=ts)
    again, two = await door.hook.post(body, timestamp=ts)
    assert (first, again) == (201, 200) and one["comment"] == two["comment"]
    later, three = await door.hook.post(body, timestamp=ts + 1)  # sent again on purpose
    assert later == 201 and three["comment"] != one["comment"]
