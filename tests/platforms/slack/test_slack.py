"""Slack end to end: signed requests to our running server, Web API calls to a local fake."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bot.domain.turns import StaffMessage
from bot.platforms.slack.adapter import SlackAdapter
from tests.fakes.fake_slack import blocks_text
from tests.fakes.slack_harness import DSL_CHANNEL, SLT_CHANNEL
from tests.helpers import DUKERIES_FORM, grant


async def test_friend_request_dm_conversation_ends_in_dsl_alert_and_acknowledgement(bot, clock):
    grant(bot.service, "UDSL", "dsl", platform="slack")
    await bot.say("U1", "friend request")
    assert "Who sent the request?" in bot.last_dm("U1")
    await bot.answer(
        "U1", "A pupil (at our school or any other school)", "No", "Instagram", "No", "No"
    )
    assert "Your reference is FR-0001" in bot.last_dm("U1")
    assert "(Policy 5.4)" in bot.last_dm("U1")

    [alert] = await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    assert "Friend or follow request FR-0001" in blocks_text(alert)
    assert alert.args["metadata"]["event_payload"]["outbox_id"] >= 1

    # A member of staff without the DSL role is refused, privately.
    await bot.click("UNOBODY", DSL_CHANNEL, "case.ack", "FR-0001")
    [refusal] = await bot.fake.wait_for("chat.postEphemeral", user="UNOBODY")
    assert "Only the safeguarding (DSL) team" in blocks_text(refusal)

    await bot.click("UDSL", DSL_CHANNEL, "case.ack", "FR-0001")
    [update] = await bot.fake.wait_for("chat.update", channel=DSL_CHANNEL)
    assert "Acknowledged by <@UDSL>" in blocks_text(update)
    assert update.args["ts"] == f"1700000000.{int(alert_ts(bot, alert)):06d}"
    await bot.fake.wait_for("chat.postMessage", channel="U1")
    [notice] = bot.fake.called("chat.postMessage", channel="U1")
    assert "picked up by <@UDSL>" in blocks_text(notice)


async def test_double_clicked_answer_button_answers_once(bot):
    await bot.say("U2", "friend request")
    last = bot.fake.called("chat.postMessage", channel="DU2")[-1]
    button = last.args["blocks"][-1]["elements"][0]  # "A pupil ..."
    for _ in range(2):
        await bot.click("U2", "DU2", button["action_id"], button["value"])
    [note] = await bot.fake.wait_for("chat.postEphemeral", channel="DU2", user="U2")
    assert "already been answered" in blocks_text(note)  # seen by them only
    texts = [blocks_text(c) for c in bot.fake.called("chat.postMessage", channel="DU2")]
    assert sum("member of your family" in t for t in texts) == 1  # the next question, once


async def test_acks_never_wait_for_the_work_behind_them(bot):
    """Slack stalls on our replies; every request is still answered at once (Slack's limit
    is 3 s), and the work catches up, in order, once Slack does."""
    bot.fake.hold = asyncio.Event()
    dm = await asyncio.wait_for(bot.dm("U1", "friend request"), 5)
    click = await asyncio.wait_for(bot.click("U2", "DU2", "choice::0", "friend_request"), 5)
    again = await asyncio.wait_for(bot.dm("U1", "1"), 5)
    assert (dm.status, click.status, again.status) == (200, 200, 200)
    assert bot.fake.called("chat.postMessage") == []  # nothing has got through yet
    bot.fake.hold.set()
    first, second = await bot.fake.wait_for("chat.postMessage", 2, channel="DU1")
    assert "Who sent" in blocks_text(first) and "Who sent" not in blocks_text(second)
    assert "Who sent" in blocks_text(
        (await bot.fake.wait_for("chat.postMessage", channel="DU2"))[0]
    )


async def test_bad_signature_and_stale_timestamp_get_401(bot):
    body = json.dumps({"type": "event_callback", "event_id": "EvX", "event": {}})
    bad = await bot.post(body, "application/json", signature="v0=deadbeef")
    assert bad.status == 401
    old = await bot.post(body, "application/json", timestamp=int(time.time()) - 301)
    assert old.status == 401
    assert bot.fake.called("chat.postMessage") == []


async def test_retried_and_duplicated_events_are_handled_once(bot):
    assert (await bot.dm("U3", "report abuse", event_id="EvSame")).status == 200
    await bot.fake.wait_for("chat.postMessage", channel="DU3")
    assert (await bot.dm("U3", "report abuse", event_id="EvSame", retry=1)).status == 200
    assert (await bot.dm("U3", "report abuse", event_id="EvSame", retry=2)).status == 200
    await bot.say("U3", "me")  # a new event is still handled
    texts = [blocks_text(c) for c in bot.fake.called("chat.postMessage", channel="DU3")]
    assert sum("Who is being targeted?" in t for t in texts) == 1


async def test_cyberbullying_with_two_files_and_a_login_page(bot):
    grant(bot.service, "USLT", "slt", platform="slack")
    bot.fake.files["one.png"] = (b"\x89PNG\r\n\x1a\nfirst", "image/png")
    bot.fake.files["two.jpg"] = (b"\xff\xd8\xffsecond", "image/jpeg")
    await bot.say("U4", "someone keeps posting about me online")
    await bot.answer("U4", "Me", "Facebook")
    await bot.say("U4", "https://facebook.com/post/1")
    await bot.say("U4", "yesterday 8pm")
    await bot.say("U4", "Insulting posts about my teaching")

    def file(name: str, kind: str) -> dict[str, Any]:
        return {
            "id": name,
            "name": name,
            "mimetype": kind,
            "size": 10,
            "url_private_download": bot.fake.file_url(name),
        }

    before = len(bot.fake.called("chat.postMessage", channel="DU4"))
    await bot.dm("U4", "", files=[file("one.png", "image/png"), file("two.jpg", "image/jpeg")])
    await bot.fake.wait_for("chat.postMessage", before + 1, channel="DU4")
    assert "That's 2 files so far" in bot.last_dm("U4")
    before = len(bot.fake.called("chat.postMessage", channel="DU4"))
    await bot.dm("U4", "", files=[file("missing.png", "image/png")])  # Slack sends a login page
    posted = await bot.fake.wait_for("chat.postMessage", before + 2, channel="DU4")
    assert "sign-in page" in blocks_text(posted[-2])
    assert "Please send screenshots" in bot.last_dm("U4")  # the question again, with Done
    await bot.answer("U4", "Done", "No", "No", "No")
    assert "CB-0001" in bot.last_dm("U4")
    [alert] = await bot.fake.wait_for("chat.postMessage", channel=SLT_CHANNEL)
    assert "CB-0001" in blocks_text(alert)
    from sqlmodel import select

    from bot.storage.tables import Evidence

    with bot.service.kernel.session() as session:
        stored = sorted((e.filename, e.size) for e in session.exec(select(Evidence)))
    assert stored == [("one.png", 13), ("two.jpg", 9)]


async def test_two_stage_approval_with_buttons_and_a_non_approver(bot):
    grant(bot.service, "USO", "safeguarding_officer", platform="slack")
    grant(bot.service, "UICT", "ict_manager", platform="slack")
    grant(bot.service, "UPRIN", "principal", platform="slack")
    # The 19-question form is covered by the dialog tests; here the last answer goes
    # through Slack, which submits the request.

    for line in ["new official account", *DUKERIES_FORM, "yes"]:
        bot.service.receive(StaffMessage("slack", "UREQ", line))
    await bot.say("UREQ", "yes")
    assert "AC-0001" in bot.last_dm("UREQ")
    [alert] = await bot.fake.wait_for("chat.postMessage", channel=SLT_CHANNEL)
    assert "stage 1 of 3" in blocks_text(alert)

    await bot.click("UICT", SLT_CHANNEL, "approval.approve", "AC-0001:0")
    [refusal] = await bot.fake.wait_for("chat.postEphemeral", user="UICT")
    assert "Only the Safeguarding Officer" in blocks_text(refusal)

    await bot.click("USO", SLT_CHANNEL, "approval.approve", "AC-0001:0")
    await bot.click("USO", SLT_CHANNEL, "approval.approve", "AC-0001:0")  # double click
    [first, *_] = await bot.fake.wait_for("chat.update", channel=SLT_CHANNEL)
    assert "stage 2 of 3" in blocks_text(first)
    await bot.click("UICT", SLT_CHANNEL, "approval.approve", "AC-0001:1")
    await bot.fake.wait_for("chat.update", 2, channel=SLT_CHANNEL)

    # Reject asks for a reason in a modal first.
    await bot.click("UPRIN", SLT_CHANNEL, "approval.reject", "AC-0001:2")
    [opened] = await bot.fake.wait_for("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    await bot.submit_modal("UPRIN", view["private_metadata"], "Audience is under 13")
    [notice] = await bot.fake.wait_for("chat.postMessage", channel="UREQ")
    assert "Reason: Audience is under 13" in blocks_text(notice)
    with bot.service.kernel.session() as session:
        from sqlmodel import select

        from bot.storage.tables import ApprovalDecision

        decisions = session.exec(select(ApprovalDecision)).all()
    assert [(d.stage, d.approve) for d in decisions] == [(0, True), (1, True), (2, False)]


async def test_rate_limit_and_missing_channel_are_retried_not_dropped(bot, clock, caplog):
    sends = bot.server.app[SlackAdapter.APP_KEY].sends
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=30)
    bot.fake.fail_next("chat.postMessage", error="not_in_channel")
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
        bot.service.receive(StaffMessage("slack", "U5", line))

    await sends.flush()  # 429: rescheduled after Retry-After
    await sends.flush()  # not due yet: nothing is sent
    assert len(bot.fake.called("chat.postMessage", channel=DSL_CHANNEL)) == 1
    clock.advance(seconds=31)
    await sends.flush()  # not_in_channel: logged with the fix, kept for later
    assert "/invite @schoolbot" in caplog.text
    assert outbox_statuses(bot) == ["pending"]  # not due yet, but kept: nothing is lost
    clock.advance(seconds=61)
    await sends.flush()
    calls = bot.fake.called("chat.postMessage", channel=DSL_CHANNEL)
    assert len(calls) == 3 and "URGENT" in blocks_text(calls[-1])
    clock.advance(minutes=10)
    assert outbox_statuses(bot) == ["sent"]


async def test_unreadable_retry_after_waits_a_second_rather_than_failing(bot, clock):
    sends = bot.server.app[SlackAdapter.APP_KEY].sends
    bot.fake.fail_next("chat.postMessage", status=429, retry_after="soon")
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
        bot.service.receive(StaffMessage("slack", "U9", line))
    await sends.flush()
    assert outbox_statuses(bot) == ["pending"]
    clock.advance(seconds=2)
    await sends.flush()
    assert outbox_statuses(bot) == ["sent"]


def alert_ts(bot, alert) -> str:
    """The ts the fake gave the alert: its position among all posted messages."""
    posted = bot.fake.called("chat.postMessage")
    return str(posted.index(alert) + 1)


def outbox_statuses(bot) -> list[str]:
    from sqlmodel import select

    from bot.storage.tables import Outbox

    with bot.service.kernel.session() as session:
        return [
            row.status for row in session.exec(select(Outbox).where(Outbox.platform == "slack"))
        ]
