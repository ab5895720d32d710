"""Issue 11's reproductions at the doors (and issue 10 point 10), each over real HTTP.

Every request goes to the running aiohttp app: Slack signed like Slack, Teams activities
with real tokens from the fake connector, comments signed like the webhook's integrations.
Each test checks what the sender hears and what the log kept (no body, no traceback).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.dispatch.service import DB_DOWN
from bot.features.accounts import approvals
from bot.features.cases import cards
from bot.features.comments import cards as comment_cards
from bot.storage import db
from bot.storage.tables import AuditEvent, Case, Comment
from tests.fakes.edge_servers import MARKER, assert_clean_log, edges
from tests.fakes.fake_slack import blocks_text
from tests.fakes.slack_harness import DSL_CHANNEL as DSL
from tests.fakes.webhook_client import comment_body
from tests.helpers import DEFAULT_REQUEST, grant, lock_the_database, say


def form(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def interaction(user: str | None = "UDSL", **extra: object) -> dict:
    payload: dict = {"type": "block_actions", "team": {"id": "T1"}, "trigger_id": "t1"}
    if user:
        payload["user"] = {"id": user}
    payload.update(extra)
    return payload


# --- issue 10 point 10: a wrongly signed request's body never reaches the log ---------------


async def test_golive_10_badly_signed_slack_request_body_never_reaches_the_log(door, caplog):
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": MARKER}})
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,  # a mistyped signing secret
    }
    assert (await door.raw_slack(body.encode(), headers)).status == 401
    assert (await door.signed_slack(body, "application/json", "abc")).status == 401
    assert_clean_log(caplog.records)
    assert MARKER not in caplog.text


# --- point 3: the signature is checked on the raw bytes before anything parses them --------

UNSIGNED = [
    (b"{", "application/json"),
    (b"[1]", "application/json"),
    (b"\xff\xfe", "application/json"),
    (b"[" * 100_000, "application/json"),
    (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
    (b'{"type": "url_verification"}', "application/json; charset=bogus"),
]


@pytest.mark.parametrize(("body", "content_type"), UNSIGNED)
async def test_hardening_03_unsigned_slack_bodies_get_401_not_500(door, caplog, body, content_type):
    status = (await door.raw_slack(body, {"Content-Type": content_type})).status
    assert status == 401
    assert_clean_log(caplog.records)
    assert await door.ready() == 200


@pytest.mark.parametrize(("body", "content_type"), UNSIGNED[:5])
async def test_hardening_03_signed_but_unparseable_slack_bodies_get_400(
    door, caplog, body, content_type
):
    assert (await door.signed_slack(body, content_type)).status == 400
    assert_clean_log(caplog.records)


@pytest.mark.parametrize("timestamp", ["abc", "9" * 5000, "²"])
async def test_hardening_03_signed_slack_request_with_a_bad_timestamp_gets_401(
    door, caplog, timestamp
):
    body = json.dumps({"type": "event_callback"})
    response = await door.signed_slack(body, "application/json", timestamp)
    assert response.status == 401
    assert_clean_log(caplog.records)


async def test_hardening_03_webhook_timestamp_of_5000_digits_gets_401(door):
    status, data = await door.hook.post(comment_body(), timestamp="9" * 5000)
    assert status == 401 and "timestamp" in data["error"].lower()


async def test_hardening_03_teams_body_nested_50000_deep_is_400_even_signed(door, caplog):
    deep = b'{"type": "message", "value": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = await door.teams.post(None, raw=deep)
    assert response.status == 400
    assert_clean_log(caplog.records)


# --- point 4: button values with Unicode digits or huge numbers get a kind reply --------


@pytest.mark.parametrize(
    ("action", "value"),
    [
        (approvals.APPROVE, "AC-0001:²"),
        (comment_cards.REPLIED, "CM-²"),
        (comment_cards.SNOOZE, "CM-99999999999999999999"),
    ],
)
async def test_hardening_04_odd_button_values_get_a_kind_reply(door, caplog, action, value):
    grant(door.service, "UHEAD", "headteacher", "slt", platform="slack")
    say(door.service, "req", *DEFAULT_REQUEST)  # AC-0001, waiting for the headteacher
    assert (await door.slack.click("UHEAD", "DUHEAD", action, value)).status == 200
    [reply] = await door.slack.fake.wait_for("chat.postMessage", channel="DUHEAD")
    assert "Nothing has changed" in blocks_text(reply)
    with door.service.session() as session:
        assert session.exec(select(Case)).one().status != "closed"
    assert_clean_log(caplog.records)


# --- points 5 and 6: the webhook answers 400 for bad input and never a false 503 --------


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
async def test_hardening_05_webhook_impossible_values_get_400(door, caplog, body):
    raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body))
    raw = raw.encode() if isinstance(raw, str) else raw
    status, data = await door.hook.post(raw)
    assert status == 400, data
    assert_clean_log(caplog.records)


async def test_hardening_06_empty_id_is_no_id_and_never_a_false_503(door):
    first, _ = await door.hook.post(comment_body(id="", text="First"))
    second, data = await door.hook.post(comment_body(id="", text="Second"))
    assert (first, second) == (201, 201), data
    with door.service.session() as session:
        texts = [c.text for c in session.exec(select(Comment).order_by(Comment.id))]
    assert texts == ["First", "Second"]


async def test_hardening_06_same_new_id_ten_times_at_once_on_postgresql_is_one_comment(
    migrated_pg_url, clock, tmp_path, caplog
):
    async with edges(migrated_pg_url, clock, tmp_path) as running:
        body = json.dumps(comment_body(id="ext-race")).encode()
        answers = await asyncio.gather(*(running.hook.post(body) for _ in range(10)))
        statuses = sorted(status for status, _ in answers)
        assert statuses == [200] * 9 + [201], answers
        assert {data["comment"] for _, data in answers} == {"CM-0001"}
        with running.service.session() as session:
            assert len(session.exec(select(Comment)).all()) == 1
    assert_clean_log(caplog.records)


async def test_hardening_06_text_with_nul_on_postgresql_is_stored_without_it(
    migrated_pg_url, clock, tmp_path
):
    async with edges(migrated_pg_url, clock, tmp_path) as running:
        status, data = await running.hook.post(comment_body(text="Trip\x00 letter?"))
        assert status == 201, data
        with running.service.session() as session:
            assert session.exec(select(Comment)).one().text == "Trip letter?"


# --- point 7: Teams ---------------------------------------------------------------------


async def test_hardening_07_teams_activity_without_conversation_is_400(door, caplog):
    activity = door.teams.activity("staff", "hello")
    del activity["conversation"]
    response = await door.teams.post(activity)
    assert response.status == 400
    assert_clean_log(caplog.records)


async def test_hardening_07_adaptive_card_action_submit_invoke_is_answered_in_json(door, caplog):
    activity = door.teams.activity("staff", kind="invoke")
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {"action": {"type": "Action.Submit", "data": {"x": 1}}}
    response = await door.teams.post(activity)
    assert response.status < 500
    json.loads(await response.text() or "null")  # whatever it says, it is JSON
    assert_clean_log(caplog.records)


async def test_hardening_07_teams_during_a_database_outage_hears_try_again(
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


async def test_hardening_07_anonymous_activity_without_service_url_is_400(
    sqlite_url, clock, tmp_path, fake
):
    async with edges(sqlite_url, clock, tmp_path, connector=fake, anonymous=True) as running:
        activity = running.teams.activity("staff", "hello")
        del activity["serviceUrl"]
        assert (await running.teams.post(activity, token=None)).status == 400
        assert (await running.teams.post(running.teams.activity("a", "hi"), token=None)).ok


# --- point 8: free text never reaches a log line, and NUL is no reason to fail -----------


async def test_hardening_08_teams_failures_log_no_names_or_references(
    sqlite_url, clock, tmp_path, fake, caplog
):
    async with edges(sqlite_url, clock, tmp_path, connector=fake, lock_timeout=0.1) as running:
        locker = lock_the_database(sqlite_url)
        try:
            activity = running.teams.activity("newstaff", f"report {MARKER}")
            activity["from"]["name"] = "Ms Marker-Person"
            await running.teams.post(activity)
        finally:
            locker.close()
    assert_clean_log(caplog.records, "Ms Marker-Person", "personal-newstaff")


def test_hardening_08_database_errors_never_quote_the_parameters(sqlite_url):
    engine = db.make_engine(sqlite_url)
    with pytest.raises(sa.exc.OperationalError) as raised, engine.connect() as connection:
        connection.execute(sa.text("INSERT INTO no_such_table VALUES (:x)"), {"x": MARKER})
    assert MARKER not in str(raised.value)


async def test_hardening_08_reject_reason_with_nul_on_postgresql_is_kept_and_answered(
    migrated_pg_url, clock, tmp_path, caplog
):
    async with edges(migrated_pg_url, clock, tmp_path) as running:
        slack = running.slack
        grant(running.service, "UHEAD", "headteacher", platform="slack")
        say(running.service, "req", *DEFAULT_REQUEST)
        await slack.click("UHEAD", "DUHEAD", approvals.REJECT, "AC-0001:0")
        [opened] = await slack.fake.wait_for("views.open")
        view = opened.args["view"]
        meta = (json.loads(view) if isinstance(view, str) else view)["private_metadata"]
        assert (await slack.submit_modal("UHEAD", meta, f"Under 13s\x00 {MARKER}")).status == 200
        [reply] = await slack.fake.wait_for("chat.postMessage", channel="DUHEAD")
        assert "rejected" in blocks_text(reply)
        with running.service.session() as session:
            assert session.exec(select(Case)).one().outcome == f"rejected: Under 13s {MARKER}"
    assert_clean_log(caplog.records)


# --- point 10: a replay inside the signature window is not applied again ----------------


def fr_case(service) -> None:
    say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")


async def test_hardening_10_replayed_add_note_form_adds_one_note(door):
    grant(door.service, "UDSL", "dsl", platform="slack")
    fr_case(door.service)
    await door.slack.click("UDSL", DSL, cards.CASE_NOTE, "FR-0001")
    [opened] = await door.slack.fake.wait_for("views.open")
    view = opened.args["view"]
    meta = (json.loads(view) if isinstance(view, str) else view)["private_metadata"]
    payload = {
        "type": "view_submission",
        "user": {"id": "UDSL"},
        "team": {"id": "T1"},
        "trigger_id": "t-note",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "schoolbot_reason",
            "private_metadata": meta,
            "state": {"values": {"reason": {"text": {"value": "Spoke to the pupil"}}}},
        },
    }
    body, ts = form(payload), str(int(time.time()))
    for _ in range(3):
        ct = "application/x-www-form-urlencoded"
        assert (await door.signed_slack(body, ct, ts)).status == 200
    await door.slack.fake.wait_for("chat.postEphemeral", user="UDSL")
    await door.slack.click("UDSL", DSL, cards.CASE_ACK, "FR-0001")  # runs after the notes
    await door.slack.fake.wait_for("chat.postEphemeral", 2, user="UDSL")
    with door.service.session() as session:
        notes = session.exec(select(AuditEvent).where(AuditEvent.action == "case.note")).all()
    assert len(notes) == 1


async def test_hardening_10_replayed_slash_command_gets_one_reply(door):
    body = urlencode({"command": "/socialmedia", "text": "", "user_id": "U7", "team_id": "T1"})
    ts = str(int(time.time()))
    for _ in range(2):
        ct = "application/x-www-form-urlencoded"
        assert (await door.signed_slack(body, ct, ts)).status == 200
    await door.slack.dm("U7", "hello")  # handled after the command's work, in order
    await door.slack.fake.wait_for("chat.postMessage", channel="DU7")
    assert len(door.slack.fake.called("chat.postMessage", channel="U7")) == 1


async def test_hardening_10_replayed_webhook_body_without_id_creates_one_comment(door):
    body = json.dumps(comment_body(id=...)).encode()
    ts = int(time.time())
    first, one = await door.hook.post(body, timestamp=ts)
    again, two = await door.hook.post(body, timestamp=ts)
    assert (first, again) == (201, 200) and one["comment"] == two["comment"]
    later, three = await door.hook.post(body, timestamp=ts + 1)  # sent again on purpose
    assert later == 201 and three["comment"] != one["comment"]


# --- point 11: readiness, and mis-shaped signed payloads ---------------------------------


async def test_hardening_11_readyz_fails_while_sqlite_is_write_locked(door, sqlite_url):
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


async def test_hardening_11_signed_slack_payloads_of_the_wrong_shape_never_get_500(door, caplog):
    ct = "application/x-www-form-urlencoded"
    no_user = interaction(None, actions=[{"action_id": "case.ack", "value": "FR-0001"}])
    assert (await door.signed_slack(form(no_user), ct)).status == 400
    broken = {
        "type": "view_submission",
        "user": {"id": "U9"},
        "view": {
            "type": "modal",
            "callback_id": "schoolbot_reason",
            "private_metadata": "not json",
            "state": {"values": {"reason": {"text": {"value": "a note"}}}},
        },
    }
    assert (await door.signed_slack(form(broken), ct)).status == 200
    [reply] = await door.slack.fake.wait_for("chat.postMessage", channel="U9")
    assert "Nothing has changed" in blocks_text(reply)
    event = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "message"}}
    event["event"].update(channel_type="im", channel="D1", text="hi")  # no user
    assert (await door.signed_slack(json.dumps(event), "application/json")).status < 500
    assert_clean_log(caplog.records)


async def test_hardening_03_bodies_over_a_megabyte_are_refused_before_any_check(door):
    big = b'{"type": "message", "text": "' + b"x" * (1024 * 1024) + b'"}'
    assert (await door.signed_slack(big, "application/json")).status == 413
    assert (await door.teams.post(None, raw=big)).status == 413


async def test_hardening_10_a_replay_after_a_restart_is_still_refused(service_factory):
    """On SQLite the ack doesn't wait for the database (it would queue behind every turn),
    so the check is in memory first; a restart reads the recent keys back."""
    from bot.intake.guard import Replays

    service = service_factory()
    first = Replays(service.first_delivery, service.recent_deliveries)
    assert await first.first("slack:digest-1")
    assert not await first.first("slack:digest-1")  # a replay, answered from memory
    first.close(wait=True)  # the database write has landed
    restarted = Replays(service.first_delivery, service.recent_deliveries)
    assert not await restarted.first("slack:digest-1")
    assert await restarted.first("slack:digest-2")
    restarted.close(wait=True)
