"""The Slack door under hostile or broken input, each over real HTTP to the running app with
every door open, signed like Slack: the signature checked on the raw bytes first, odd
button values, wrong shapes and NUL answered kindly, replays inside the signature window
not applied again. Each test checks what the sender hears and what the log kept (no body,
no traceback).
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from bot.features.accounts import approvals
from bot.features.cases import cards
from bot.features.comments import cards as comment_cards
from bot.storage.tables import AuditEvent, Case
from tests.fakes.edge_servers import MARKER, assert_clean_log, edges
from tests.fakes.fake_slack import blocks_text
from tests.fakes.slack_harness import DSL_CHANNEL as DSL
from tests.helpers import DEFAULT_REQUEST, grant, say


def form(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload)})


def interaction(user: str | None = "UDSL", **extra: object) -> dict:
    payload: dict = {"type": "block_actions", "team": {"id": "T1"}, "trigger_id": "t1"}
    if user:
        payload["user"] = {"id": user}
    payload.update(extra)
    return payload


# --- a wrongly signed request's body never reaches the log ----------------------------------


@pytest.mark.issue(10, 10)
async def test_badly_signed_slack_request_body_never_reaches_the_log(door, caplog):
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


# --- the signature is checked on the raw bytes before anything parses them -----------------

UNSIGNED = [
    (b"{", "application/json"),
    (b"[1]", "application/json"),
    (b"\xff\xfe", "application/json"),
    (b"[" * 100_000, "application/json"),
    (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
    (b'{"type": "url_verification"}', "application/json; charset=bogus"),
]


@pytest.mark.issue(11, 3)
@pytest.mark.parametrize(("body", "content_type"), UNSIGNED)
async def test_unsigned_slack_bodies_get_401_not_500(door, caplog, body, content_type):
    status = (await door.raw_slack(body, {"Content-Type": content_type})).status
    assert status == 401
    assert_clean_log(caplog.records)
    assert await door.ready() == 200


@pytest.mark.issue(11, 3)
@pytest.mark.parametrize(("body", "content_type"), UNSIGNED[:5])
async def test_signed_but_unparseable_slack_bodies_get_400(door, caplog, body, content_type):
    assert (await door.signed_slack(body, content_type)).status == 400
    assert_clean_log(caplog.records)


@pytest.mark.issue(11, 3)
@pytest.mark.parametrize("timestamp", ["abc", "9" * 5000, "²"])
async def test_signed_slack_request_with_a_bad_timestamp_gets_401(door, caplog, timestamp):
    body = json.dumps({"type": "event_callback"})
    response = await door.signed_slack(body, "application/json", timestamp)
    assert response.status == 401
    assert_clean_log(caplog.records)


# --- button values with Unicode digits or huge numbers get a kind reply -----------------


@pytest.mark.issue(11, 4)
@pytest.mark.parametrize(
    ("action", "value"),
    [
        (approvals.APPROVE, "AC-0001:²"),
        (comment_cards.REPLIED, "CM-²"),
        (comment_cards.SNOOZE, "CM-99999999999999999999"),
    ],
)
async def test_odd_button_values_get_a_kind_reply(door, caplog, action, value):
    grant(door.service, "UHEAD", "headteacher", "slt", platform="slack")
    say(door.service, "req", *DEFAULT_REQUEST)  # AC-0001, waiting for the headteacher
    assert (await door.slack.click("UHEAD", "DUHEAD", action, value)).status == 200
    [reply] = await door.slack.fake.wait_for("chat.postMessage", channel="DUHEAD")
    assert "Nothing has changed" in blocks_text(reply)
    with door.service.kernel.session() as session:
        assert session.exec(select(Case)).one().status != "closed"
    assert_clean_log(caplog.records)


@pytest.mark.issue(11, 8)
async def test_reject_reason_with_nul_on_postgresql_is_kept_and_answered(
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
        with running.service.kernel.session() as session:
            assert session.exec(select(Case)).one().outcome == f"rejected: Under 13s {MARKER}"
    assert_clean_log(caplog.records)


# --- a replay inside the signature window is not applied again --------------------------


def fr_case(service) -> None:
    say(service, "alice", "friend request", "1", "no", "instagram", "no", "no")


@pytest.mark.issue(11, 10)
async def test_replayed_add_note_form_adds_one_note(door):
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
    with door.service.kernel.session() as session:
        notes = session.exec(select(AuditEvent).where(AuditEvent.action == "case.note")).all()
    assert len(notes) == 1


@pytest.mark.issue(11, 10)
async def test_replayed_slash_command_gets_one_reply(door):
    body = urlencode({"command": "/socialmedia", "text": "", "user_id": "U7", "team_id": "T1"})
    ts = str(int(time.time()))
    for _ in range(2):
        ct = "application/x-www-form-urlencoded"
        assert (await door.signed_slack(body, ct, ts)).status == 200
    await door.slack.dm("U7", "hello")  # handled after the command's work, in order
    await door.slack.fake.wait_for("chat.postMessage", channel="DU7")
    assert len(door.slack.fake.called("chat.postMessage", channel="U7")) == 1


@pytest.mark.issue(11, 11)
async def test_signed_slack_payloads_of_the_wrong_shape_never_get_500(door, caplog):
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
