"""POST /hooks/comments over real HTTP: our aiohttp app from create_app in a TestServer.

Requests are signed as the module docstring of bot/web/webhook.py says:
`X-Schoolbot-Signature: v1=<hex HMAC-SHA256 of "v1:<timestamp>:<body>">` with
`X-Schoolbot-Timestamp` in Unix seconds (checked against the real clock, +-5 minutes).
Every test checks the HTTP answer and what ended up in the database (comments, outbox).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.app import create_app
from bot.config import Settings
from bot.dispatch import BotService
from bot.storage.tables import Comment, Outbox, Reminder
from bot.web.webhook import MAX_BODY, PATH, signature
from tests.fakes.webhook_client import ACCOUNT, CONTACTS, SECRET, Hook, comment_body
from tests.helpers import make_service

BUTTONS = ["comment.replied", "comment.acknowledged", "comment.offensive", "comment.snooze"]


def comments(service: BotService) -> list[Comment]:
    with service.kernel.session() as session:
        return list(session.exec(select(Comment).order_by(Comment.id)))


def outbox(service: BotService) -> list[Outbox]:
    with service.kernel.session() as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)))


def dm_rows(service: BotService) -> list[tuple[str, str]]:
    return [(r.platform, r.target) for r in outbox(service) if r.target_kind == "user"]


def team_rows(service: BotService) -> list[tuple[str, str]]:
    return [(r.platform, r.target) for r in outbox(service) if r.target_kind == "team"]


@pytest.fixture
async def hook(sqlite_url, clock, tmp_path) -> AsyncIterator[Hook]:
    service = make_service(sqlite_url, "dukeries-academy", clock, tmp_path / "evidence")
    service.outbox.platforms = ("console", "slack")
    service.comments.register_add(
        "cli:admin",
        name=ACCOUNT,
        purpose="News from Year 6",
        platform="WordPress",
        author="Ms Head",
        moderators=["Ms Head", "Mr Deputy"],
        contacts=CONTACTS,
    )
    settings = Settings(SCHOOLBOT_WEBHOOK_SECRET=SECRET, SCHOOLBOT_DATA_DIR=tmp_path)
    server = TestServer(create_app(service, settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            yield Hook(server, service, http)
    finally:
        await server.close()


# --- accepted ---------------------------------------------------------------------------


async def test_signed_comment_is_stored_with_deadline_reminders_and_moderator_dms(hook):
    status, data = await hook.post(comment_body())

    assert status == 201, data
    assert data["ok"] is True
    assert data["comment"] == "CM-0001"
    assert data["duplicate"] is False
    # Received on a Saturday: due at day_ends (17:00 GMT) on the next working day (Mon 23 Nov).
    assert data["due_at"] == "2026-11-23T17:00:00+00:00"

    [stored] = comments(hook.service)
    assert stored.ref == "CM-0001"
    assert (stored.source, stored.logged_by, stored.platform) == ("webhook", "webhook", None)
    assert stored.external_id == "ext-0001"
    assert stored.author_type == "parent"
    assert stored.text == "When is the Year 6 trip letter going out?"
    assert stored.link == "https://blog.example.org/posts/12#comment-3"
    assert stored.status == "awaiting"
    assert stored.due_at.isoformat() == data["due_at"]

    with hook.service.kernel.session() as session:
        kinds = sorted(
            r.kind for r in session.exec(select(Reminder).where(Reminder.comment_id == stored.id))
        )
    assert kinds == ["comment.deadline", "comment.escalate", "comment.nudge"]

    # Each contact gets a DM on their own platform, with the four nudge buttons for CM-0001.
    assert sorted(dm_rows(hook.service)) == [("slack", "UMOD1"), ("teams", "aad-mod2")]
    assert team_rows(hook.service) == []  # a parent's question is not an SLT matter
    for row in outbox(hook.service):
        assert row.status == "pending"
        assert "New comment on Year 6 Blog" in row.message["text"]
        assert [b[0] for b in row.message["buttons"]] == BUTTONS
        assert {b[2] for b in row.message["buttons"]} == {"CM-0001"}


async def test_account_can_be_named_by_register_number(hook):
    status, data = await hook.post(comment_body(account=1, id=None))
    assert status == 201, data
    assert [c.account_id for c in comments(hook.service)] == [1]


async def test_same_id_again_returns_the_first_comment_and_sends_nothing_new(hook):
    status, first = await hook.post(comment_body())
    assert status == 201
    dms_before = dm_rows(hook.service)

    status, again = await hook.post(comment_body())

    assert status == 200, again
    assert again["duplicate"] is True
    assert again["comment"] == first["comment"] == "CM-0001"
    assert again["due_at"] == first["due_at"]
    assert len(comments(hook.service)) == 1
    assert dm_rows(hook.service) == dms_before  # no second round of DMs

    # A different id is a different comment.
    status, other = await hook.post(comment_body(id="ext-0002"))
    assert status == 201 and other["comment"] == "CM-0002"
    assert len(comments(hook.service)) == 2


async def test_timestamp_four_minutes_old_is_accepted(hook):
    status, data = await hook.post(comment_body(), timestamp=int(time.time()) - 240)
    assert status == 201, data
    assert len(comments(hook.service)) == 1


async def test_press_comment_alerts_slt_at_once(hook):
    status, data = await hook.post(
        comment_body(author_type="press", text="Local Echo here: can you comment on the trip?")
    )
    assert status == 201, data

    [stored] = comments(hook.service)
    assert stored.status == "escalated"
    assert stored.escalated_at is not None
    # No chat platform logged it, so the alert goes to every platform in service.outbox.platforms.
    assert sorted(team_rows(hook.service)) == [("console", "slt"), ("slack", "slt")]
    slt = [r for r in outbox(hook.service) if r.target_kind == "team"]
    for row in slt:
        assert row.status == "pending"
        assert "CM-0001" in row.message["title"]
        assert "press enquiry" in row.message["text"]
    # ... and the moderators are still told.
    assert sorted(dm_rows(hook.service)) == [("slack", "UMOD1"), ("teams", "aad-mod2")]


# --- refused: authentication ------------------------------------------------------------


async def assert_nothing_stored(hook: Hook) -> None:
    assert comments(hook.service) == []
    assert outbox(hook.service) == []


async def test_bad_signature_is_401(hook):
    status, data = await hook.post(comment_body(), secret="someone-elses-secret")
    assert status == 401, data
    assert data["ok"] is False and "signature" in data["error"]
    await assert_nothing_stored(hook)


async def test_signature_of_another_body_is_401(hook):
    ts = str(int(time.time()))
    sig = signature(SECRET, ts, json.dumps(comment_body(text="harmless")).encode())
    status, _ = await hook.post(comment_body(text="tampered"), timestamp=ts, sig=sig)
    assert status == 401
    await assert_nothing_stored(hook)


async def test_signature_without_the_v1_prefix_is_401(hook):
    ts = str(int(time.time()))
    raw = json.dumps(comment_body()).encode()
    bare = signature(SECRET, ts, raw).removeprefix("v1=")
    status, _ = await hook.post(raw, timestamp=ts, sig=bare)
    assert status == 401
    await assert_nothing_stored(hook)


async def test_missing_signature_is_401(hook):
    status, data = await hook.post(comment_body(), sign=False)
    assert status == 401, data
    await assert_nothing_stored(hook)


async def test_missing_timestamp_is_401(hook):
    raw = json.dumps(comment_body()).encode()
    response = await hook.http.post(
        hook.server.make_url(PATH),
        data=raw,
        headers={
            "Content-Type": "application/json",
            "X-Schoolbot-Signature": signature(SECRET, "", raw),
        },
    )
    assert response.status == 401
    await assert_nothing_stored(hook)


@pytest.mark.parametrize("offset", [-360, 360], ids=["6-minutes-old", "6-minutes-ahead"])
async def test_timestamp_six_minutes_off_is_401_even_when_correctly_signed(hook, offset):
    status, data = await hook.post(comment_body(), timestamp=int(time.time()) + offset)
    assert status == 401, data
    assert "timestamp" in data["error"].lower()
    await assert_nothing_stored(hook)


# --- refused: the request itself -----------------------------------------------------------


async def test_invalid_json_is_400(hook):
    status, data = await hook.post(b'{"account": "Year 6 Blog", "author_type": ')
    assert status == 400, data
    assert "JSON" in data["error"]
    await assert_nothing_stored(hook)


async def test_json_that_is_not_an_object_is_400(hook):
    status, data = await hook.post(b'["not", "a", "comment"]')
    assert status == 400, data
    await assert_nothing_stored(hook)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_wrong_content_type_is_400(hook, content_type):
    status, data = await hook.post(comment_body(), content_type=content_type)
    assert status == 400, data
    assert "Content-Type" in data["error"]
    await assert_nothing_stored(hook)


async def test_missing_author_type_is_400_naming_it(hook):
    status, data = await hook.post(comment_body(author_type=...))
    assert status == 400, data
    assert "author_type" in data["error"]
    await assert_nothing_stored(hook)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("offensive", "maybe"),
        ("complaint", [True]),
        ("author_type", "teacher"),
        ("text", ""),
        ("link", "javascript:alert(1)"),
        ("received_at", "2026-11-21T14:30:00"),  # no timezone
        ("received_at", "last Tuesday"),
        ("nickname", "extra fields are refused"),
    ],
)
async def test_wrong_value_is_400_naming_the_field(hook, field, value):
    status, data = await hook.post(comment_body(**{field: value}))
    assert status == 400, data
    assert field in data["error"], data["error"]
    await assert_nothing_stored(hook)


@pytest.mark.parametrize("account", ["No Such Account", 99])
async def test_unknown_account_is_400(hook, account):
    status, data = await hook.post(comment_body(account=account))
    assert status == 400, data
    assert data["error"].startswith("account:")
    await assert_nothing_stored(hook)


async def test_closed_account_is_400(hook):
    hook.service.comments.register_change(1, "cli:admin", close=True)
    status, data = await hook.post(comment_body())
    assert status == 400, data
    assert data["error"].startswith("account:")
    assert comments(hook.service) == []


async def test_oversized_body_is_413(hook):
    padding = " " * (MAX_BODY + 1)
    raw = json.dumps(comment_body()).encode()[:-1] + padding.encode() + b"}"
    status, data = await hook.post(raw)
    assert status == 413, data
    await assert_nothing_stored(hook)


async def test_oversized_chunked_body_without_content_length_is_413(hook):
    raw = json.dumps(comment_body()).encode()[:-1] + b" " * (2 * MAX_BODY) + b"}"
    ts = str(int(time.time()))

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 8192):
            yield raw[start : start + 8192]

    response = await hook.http.post(
        hook.server.make_url(PATH),
        data=chunks(),
        headers={
            "Content-Type": "application/json",
            "X-Schoolbot-Timestamp": ts,
            "X-Schoolbot-Signature": signature(SECRET, ts, raw),
        },
    )
    assert response.status == 413, await response.text()
    await assert_nothing_stored(hook)


async def test_timestamp_that_is_not_ascii_digits_is_401_not_500(hook):
    status, _ = await hook.post(comment_body(), timestamp="²", sig="v1=00")
    assert status == 401
    await assert_nothing_stored(hook)


# --- no secret, no webhook ------------------------------------------------------------------


@pytest.mark.parametrize(
    "configured", [{}, {"SCHOOLBOT_WEBHOOK_SECRET": ""}], ids=["unset", "empty"]
)
async def test_without_a_secret_the_route_is_absent(sqlite_url, clock, tmp_path, configured):
    service = make_service(sqlite_url, "dukeries-academy", clock, tmp_path / "evidence")
    settings = Settings(SCHOOLBOT_DATA_DIR=tmp_path, **configured)
    assert settings.webhook_secret is None
    server = TestServer(create_app(service, settings))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            raw = json.dumps(comment_body()).encode()
            ts = str(int(time.time()))
            response = await http.post(
                server.make_url(PATH),
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Schoolbot-Timestamp": ts,
                    "X-Schoolbot-Signature": signature(SECRET, ts, raw),
                },
            )
            assert response.status == 404
            health = await http.get(server.make_url("/healthz"))
            assert health.status == 200  # the app itself is up
    finally:
        await server.close()
    assert comments(service) == []
