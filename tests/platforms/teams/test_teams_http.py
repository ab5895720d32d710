"""Teams over HTTP: tokens, malformed requests, duplicates and connector failures."""

from __future__ import annotations

import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import select

from bot.config import Settings
from bot.domain.turns import StaffMessage
from bot.platforms.teams.platform import mode as teams_mode
from bot.storage.tables import Outbox
from tests.fakes.fake_connector import FakeConnector
from tests.fakes.teams_client import assert_all_cards_valid, channel_id, personal, running_bot
from tests.helpers import grant


@pytest.fixture
async def teams(sqlite_url, clock, tmp_path, fake):
    async with running_bot(
        sqlite_url, "dukeries-academy", clock, tmp_path, fake, TEAMS_DSL_CHANNEL=channel_id("dsl")
    ) as client:
        yield client


async def test_requests_without_a_valid_token_get_401(teams, fake):
    activity = teams.activity("mallory", "friend request")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        "no header": None,
        "not bearer": f"Basic {fake.sign()}",
        "garbage": "Bearer not-a-jwt",
        "someone else's key": f"Bearer {fake.sign(key=stranger)}",
        "another bot": f"Bearer {fake.sign(aud='another-app')}",
        "other issuer": f"Bearer {fake.sign(iss='https://evil.example')}",
        "expired": f"Bearer {fake.sign(exp=1_000_000_000, nbf=999_999_000)}",
        "other serviceUrl": f"Bearer {fake.sign(serviceurl='https://evil.example')}",
    }
    for why, header in forged.items():
        response = await teams.post(activity, token=header)
        assert response.status == 401, why
    assert fake.called() == []
    assert (await teams.post(activity)).status == 200  # the genuine one still works
    assert "Who sent the request?" in teams.last("mallory")


async def test_malformed_requests_get_400_never_500(teams, fake):
    good = teams.activity("mallory", "hello")
    cases = [
        (b"{not json", "application/json"),
        (json.dumps(good).encode(), "text/plain"),
        (json.dumps(good).encode(), None),
        (b"[1, 2, 3]", "application/json"),
        (json.dumps({"text": "no type"}).encode(), "application/json"),
        (json.dumps({**good, "type": 5}).encode(), "application/json"),
        (b"\xff\xfe\x00", "application/json"),
    ]
    for body, content_type in cases:
        response = await teams.post(None, content_type=content_type, raw=body)
        assert response.status == 400, (body[:30], content_type)
    assert fake.called() == []


async def test_repeated_activity_id_is_handled_once(teams, fake):
    activity = teams.activity("dup", "report abuse", activity_id="same-id")
    for _ in range(3):
        assert (await teams.post(activity)).status == 200
    await teams.say("dup", "me")  # a new activity is still handled
    texts = [json.dumps(c.activity) for c in teams.dms("dup") if c.kind != "update"]
    assert sum("Who is being targeted?" in t for t in texts) == 1
    assert len(texts) == 2
    assert len(teams.fake.called("update")) == 1  # the question answered by "me" is closed


async def test_connector_429_and_5xx_are_retried_then_delivered(teams, fake, clock, caplog):
    caplog.set_level(logging.INFO)
    sends = teams.adapter.sends
    await sends.flush()
    # Nowhere to post yet: logged with the fix, kept.
    for line in [
        "friend request",
        "1",
        "no",
        "instagram",
        "no",
        "yes, she says she is scared to go home",
        "no",
        "done",
    ]:
        teams.service.receive(StaffMessage("teams", "aad-u5", line))
    await sends.flush()
    assert "hasn't been added to any team yet" in caplog.text
    assert outbox_statuses(teams) == ["pending"]

    install = teams.activity("admin", channel="general", kind="installationUpdate")
    install["action"] = "add"
    assert (await teams.post(install)).status == 200
    await sends.flush()  # not due yet
    assert fake.called("create") == []

    fake.fail_next("create", status=429, retry_after=30)
    fake.fail_next("create", status=503)
    clock.advance(seconds=61)
    await sends.flush()  # 429: rescheduled after Retry-After
    assert "rate-limited" in caplog.text
    clock.advance(seconds=31)
    await sends.flush()  # 503: backoff
    assert outbox_statuses(teams) == ["pending"]
    assert fake.called("create") == []
    clock.advance(minutes=10)
    await sends.flush()
    [alert] = fake.called("create", conversation=channel_id("dsl"))
    assert "URGENT" in json.dumps(alert.activity)
    assert outbox_statuses(teams) == ["sent"]


async def test_failures_are_parked_after_many_attempts_never_dropped(teams, fake, clock, caplog):
    sends = teams.adapter.sends
    install = teams.activity("admin", channel="general", kind="installationUpdate")
    install["action"] = "add"
    await teams.post(install)
    for line in [
        "friend request",
        "1",
        "no",
        "instagram",
        "no",
        "yes, she says she is scared to go home",
        "no",
        "done",
    ]:
        teams.service.receive(StaffMessage("teams", "aad-u6", line))
    for _ in range(12):
        fake.fail_next("create", status=500)
    for _ in range(12):
        await sends.flush()
        clock.advance(minutes=10)
    assert "giving up on outbox" in caplog.text
    assert outbox_statuses(teams) == ["failed"]


async def test_double_clicked_answer_button_answers_once(teams, fake):
    await teams.say("dbl", "friend request")
    card = teams.dms("dbl")[-1].activity["attachments"][0]["content"]
    first = card["actions"][0]["data"]  # "A pupil ..."
    await teams.say("dbl", value=first)
    await teams.say("dbl", value=first)
    texts = [json.dumps(c.activity) for c in teams.dms("dbl")]
    assert any("already been answered" in t for t in texts)
    assert_all_cards_valid(fake)


async def test_anonymous_mode_only_on_loopback(sqlite_url, clock, tmp_path):
    assert teams_mode(Settings(TEAMS_ALLOW_ANONYMOUS="true", SCHOOLBOT_HOST="127.0.0.1")) == (
        "anonymous"
    )
    assert teams_mode(Settings(TEAMS_ALLOW_ANONYMOUS="true", SCHOOLBOT_HOST="0.0.0.0")) is None
    assert teams_mode(Settings(TEAMS_ALLOW_ANONYMOUS="", MicrosoftAppId="")) is None
    fake = FakeConnector(require_token=False).start()
    try:
        async with running_bot(
            sqlite_url,
            "default",
            clock,
            tmp_path,
            fake,
            MicrosoftAppId="",
            MicrosoftAppPassword="",
            TEAMS_ALLOW_ANONYMOUS="true",
        ) as teams:
            grant(teams.service, "aad-x", "dsl", platform="teams")
            assert (await teams.post(teams.activity("emu", "hello"), token=None)).status == 200
            assert "What would you like to do?" in teams.last("emu")
            assert teams.dms("emu")[-1].conversation == personal("emu")
    finally:
        fake.close()


def outbox_statuses(teams) -> list[str]:
    with teams.service.kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.platform == "teams"))
        return [row.status for row in rows]
