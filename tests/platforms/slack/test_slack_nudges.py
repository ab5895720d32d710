"""Comments awaiting a reply, through Slack end to end.

Our real app (Slack mounted, fake Slack Web API) with the Dukeries pack: a comment logged
from the CLI DMs the account's Slack contacts with four buttons; the scheduler's sweep
nudges them `nudge_before_hours` (4) before the deadline, tells them at the deadline and
escalates to the SLT channel an hour after it; the buttons close, snooze or escalate.

The fake clock starts on Saturday 21 Nov 2026 15:00 GMT, so a comment logged then is due at
day_ends (17:00) on Monday 23 Nov: nudge at 13:00, escalation at 18:00.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.features.comments.rules import CommentIn
from bot.platforms.slack.adapter import SlackAdapter
from bot.storage.tables import Comment, Outbox, Reminder
from tests.fakes.fake_slack import Call, blocks_text
from tests.fakes.slack_harness import SLT_CHANNEL
from tests.helpers import grant

ACCOUNT = "Dukeries Sport"
MOD1, MOD2 = "UMOD1", "UMOD2"
BUTTONS = [
    ("comment.replied", "Replied"),
    ("comment.acknowledged", "Acknowledged publicly"),
    ("comment.offensive", "Offensive: tell SLT"),
    ("comment.snooze", "Snooze 1 hour"),
]
DUE = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday, day_ends in GMT
NUDGE = DUE - timedelta(hours=4)


# --- helpers ------------------------------------------------------------------------------


def add_account(bot, contacts: tuple[str, ...] = (f"slack:{MOD1}", f"slack:{MOD2}")) -> None:
    bot.service.outbox.platforms = ("console", "slack")
    bot.service.comments.register_add(
        "cli:admin",
        name=ACCOUNT,
        purpose="Fixtures and results",
        platform="X (Twitter)",
        author="Mr Coach",
        moderators=["Mr Coach", "Ms Assistant"],
        contacts=list(contacts),
    )


def log_comment(bot, **fields: Any) -> Comment:
    data = {"account": ACCOUNT, "author_type": "parent", "text": "Is the match still on?"}
    data.update(fields)
    comment, created = bot.service.comments.log_comment(CommentIn(**data), "cli", "cli:admin")
    assert created
    return comment


def sends(bot):
    return bot.server.app[SlackAdapter.APP_KEY].sends


async def sweep(bot) -> None:
    """One scheduler tick, then deliver what it queued."""
    bot.service.sweep()
    await sends(bot).flush()


def posts(bot, channel: str) -> list[Call]:
    return bot.fake.called("chat.postMessage", channel=channel)


def buttons(call: Call) -> list[tuple[str, str, str]]:
    """(action_id, label, value) of every button in a posted message."""
    blocks = call.args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [
        (e["action_id"], e["text"]["text"], e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def stored(bot, ref: str = "CM-0001") -> Comment:
    with bot.service.kernel.session() as session:
        comment = session.get(Comment, int(ref.removeprefix("CM-")))
        assert comment is not None
        return comment


def reminder_states(bot, ref: str = "CM-0001") -> dict[str, str]:
    with bot.service.kernel.session() as session:
        rows = session.exec(
            select(Reminder).where(Reminder.comment_id == int(ref.removeprefix("CM-")))
        ).all()
        return {r.kind: r.status for r in rows}


def outbox_count(bot) -> int:
    with bot.service.kernel.session() as session:
        return len(session.exec(select(Outbox)).all())


async def new_comment_dms(bot, ref: str = "CM-0001", count: int = 1) -> None:
    await sends(bot).flush()
    for user in (MOD1, MOD2):
        calls = await bot.fake.wait_for("chat.postMessage", count, channel=user)
        assert ref in blocks_text(calls[-1])


async def click_and_wait(bot, user: str, channel: str, action: str, value: str) -> str:
    """Press a button; return the private reply (a DM in a D channel, else ephemeral)."""
    method = "chat.postMessage" if channel.startswith("D") else "chat.postEphemeral"
    match = {"channel": channel} if method == "chat.postMessage" else {"user": user}
    before = len(bot.fake.called(method, **match))
    response = await bot.click(user, channel, action, value)
    assert response.status == 200
    calls = await bot.fake.wait_for(method, before + 1, **match)
    return blocks_text(calls[-1])


# --- tests --------------------------------------------------------------------------------


def test_dukeries_pack_nudges_four_hours_before_a_24_hour_deadline(bot):
    comments = bot.service.kernel.pack.comments
    assert comments.nudge_before_hours == 4
    assert comments.reply_within_hours == 24
    assert comments.weekend_to_next_working_day is True


async def test_new_comment_dms_both_contacts_with_the_four_buttons(bot):
    add_account(bot)
    comment = log_comment(bot, link="https://x.com/dukeries/status/1")
    assert comment.ref == "CM-0001"
    assert comment.due_at == DUE

    await new_comment_dms(bot)
    for user in (MOD1, MOD2):
        [dm] = posts(bot, user)
        text = blocks_text(dm)
        assert "New comment on Dukeries Sport" in text
        assert "Is the match still on?" not in text  # free text: only at "full" detail
        assert "A parent or carer" in text
        assert buttons(dm) == [(a, label, "CM-0001") for a, label in BUTTONS]
    assert posts(bot, SLT_CHANNEL) == []  # a parent's question is not escalated at once
    with bot.service.kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.platform == "slack")).all()
        assert sorted((r.target, r.status) for r in rows) == [(MOD1, "sent"), (MOD2, "sent")]


async def test_nudge_then_replied_closes_it_and_nothing_more_is_sent(bot, clock):
    add_account(bot)
    log_comment(bot)
    await new_comment_dms(bot)

    # A minute before the nudge time, a sweep sends nothing.
    clock.current = NUDGE - timedelta(minutes=1)
    await sweep(bot)
    assert len(posts(bot, MOD1)) == 1 and len(posts(bot, MOD2)) == 1

    clock.current = NUDGE
    await sweep(bot)
    for user in (MOD1, MOD2):
        calls = await bot.fake.wait_for("chat.postMessage", 2, channel=user)
        assert len(calls) == 2
        reminder = blocks_text(calls[-1])
        assert "Reminder: a comment on Dukeries Sport needs a reply by" in reminder
        assert "CM-0001" in reminder
        assert buttons(calls[-1]) == [(a, label, "CM-0001") for a, label in BUTTONS]
    assert reminder_states(bot) == {
        "comment.nudge": "done",
        "comment.deadline": "pending",
        "comment.escalate": "pending",
    }

    # Someone who is not a contact (nor SLT) is refused, in their DM and in a channel.
    refusal = await click_and_wait(bot, "UOTHER", "DUOTHER", "comment.replied", "CM-0001")
    assert "Only the moderators of Dukeries Sport or SLT can do that" in refusal
    refusal = await click_and_wait(bot, "UOTHER", SLT_CHANNEL, "comment.replied", "CM-0001")
    assert "Only the moderators of Dukeries Sport or SLT can do that" in refusal
    assert stored(bot).status == "awaiting"
    assert stored(bot).closed_by is None
    assert reminder_states(bot)["comment.deadline"] == "pending"

    reply = await click_and_wait(bot, MOD1, f"D{MOD1}", "comment.replied", "CM-0001")
    assert "CM-0001 is closed as replied to" in reply
    comment = stored(bot)
    assert comment.status == "replied"
    assert comment.closed_by == f"slack:{MOD1}"
    assert comment.closed_at == NUDGE
    assert reminder_states(bot) == {
        "comment.nudge": "done",
        "comment.deadline": "cancelled",
        "comment.escalate": "cancelled",
    }

    # The other moderator presses it too: already closed, nothing changes.
    again = await click_and_wait(bot, MOD2, f"D{MOD2}", "comment.acknowledged", "CM-0001")
    assert "CM-0001 is already closed (replied)" in again
    assert stored(bot).closed_by == f"slack:{MOD1}"

    # Past the deadline and the escalation time: the sweep sends nothing more.
    sent_before = len(bot.fake.called("chat.postMessage"))
    rows_before = outbox_count(bot)
    clock.current = DUE + timedelta(hours=2)
    await sweep(bot)
    assert len(bot.fake.called("chat.postMessage")) == sent_before
    assert outbox_count(bot) == rows_before
    assert posts(bot, SLT_CHANNEL) == []
    assert stored(bot).status == "replied"


async def test_unanswered_comment_is_escalated_to_slt_an_hour_after_the_deadline(bot, clock):
    grant(bot.service, "USLT", "slt", platform="slack")
    add_account(bot)
    log_comment(bot)  # CM-0001: answered straight away
    await new_comment_dms(bot)
    log_comment(bot, text="Why was my child not picked for the team?")  # CM-0002: nobody
    await new_comment_dms(bot, "CM-0002", count=2)
    await click_and_wait(bot, MOD1, f"D{MOD1}", "comment.replied", "CM-0001")

    clock.current = NUDGE
    await sweep(bot)
    nudge = (await bot.fake.wait_for("chat.postMessage", 3, channel=MOD2))[-1]
    assert "Reminder" in blocks_text(nudge) and "CM-0002" in blocks_text(nudge)

    clock.current = DUE
    await sweep(bot)
    deadline = (await bot.fake.wait_for("chat.postMessage", 4, channel=MOD2))[-1]
    assert "The reply deadline for a comment on Dukeries Sport is now" in blocks_text(deadline)
    assert "CM-0002" in blocks_text(deadline)
    assert posts(bot, SLT_CHANNEL) == []

    # Not yet: a minute before deadline + 1 h.
    clock.current = DUE + timedelta(minutes=59)
    await sweep(bot)
    assert posts(bot, SLT_CHANNEL) == []
    assert stored(bot, "CM-0002").status == "awaiting"

    clock.current = DUE + timedelta(hours=1)
    await sweep(bot)
    [alert] = await bot.fake.wait_for("chat.postMessage", 1, channel=SLT_CHANNEL)
    text = blocks_text(alert)
    assert "Comment CM-0002 on Dukeries Sport" in text
    assert "Nobody has marked this comment as replied" in text
    assert "CM-0001" not in text
    assert ("comment.replied", "Replied", "CM-0002") in buttons(alert)
    comment = stored(bot, "CM-0002")
    assert comment.status == "escalated"
    assert comment.escalated_at == DUE + timedelta(hours=1)
    assert stored(bot, "CM-0001").escalated_at is None
    told = (await bot.fake.wait_for("chat.postMessage", 5, channel=MOD2))[-1]
    assert "is overdue (due" in blocks_text(told) and "SLT have been told" in blocks_text(told)

    # SLT (not a contact) may close it from the alert; the channel hears who did.
    reply = await click_and_wait(bot, "USLT", SLT_CHANNEL, "comment.replied", "CM-0002")
    assert "CM-0002 is closed as replied to" in reply
    await sends(bot).flush()
    closed = (await bot.fake.wait_for("chat.postMessage", 2, channel=SLT_CHANNEL))[-1]
    assert "Comment CM-0002 on Dukeries Sport is closed: replied to by <@USLT>" in blocks_text(
        closed
    )
    assert stored(bot, "CM-0002").status == "replied"
    assert stored(bot, "CM-0002").closed_by == "slack:USLT"


async def test_offensive_pressed_by_a_contact_tells_the_slt_channel(bot):
    add_account(bot)
    log_comment(bot, text="You lot are a disgrace")
    await new_comment_dms(bot)

    reply = await click_and_wait(bot, MOD2, f"D{MOD2}", "comment.offensive", "CM-0001")
    assert "SLT have been told about CM-0001" in reply
    await sends(bot).flush()
    [alert] = await bot.fake.wait_for("chat.postMessage", 1, channel=SLT_CHANNEL)
    text = blocks_text(alert)
    assert "Comment CM-0001 on Dukeries Sport" in text
    assert "<@UMOD2> marked this comment offensive" in text
    assert "You lot are a disgrace" not in text  # free text: only at "full" detail
    comment = stored(bot)
    assert comment.offensive is True
    assert comment.status == "escalated"
    assert comment.escalated_at is not None
    # Still open: the moderators must still reply, so the reminders stay.
    assert set(reminder_states(bot).values()) == {"pending"}


async def test_offensive_pressed_by_a_non_contact_changes_nothing(bot):
    presser = "UOTHER"
    add_account(bot)
    log_comment(bot)
    await new_comment_dms(bot)
    refusal = await click_and_wait(bot, presser, f"D{presser}", "comment.offensive", "CM-0001")
    assert "Only the moderators of Dukeries Sport or SLT can do that" in refusal
    await sends(bot).flush()
    assert posts(bot, SLT_CHANNEL) == []
    comment = stored(bot)
    assert (comment.offensive, comment.status, comment.escalated_at) == (False, "awaiting", None)


async def test_snooze_reminds_an_hour_later_and_keeps_the_nudge(bot, clock):
    add_account(bot)
    log_comment(bot)
    await new_comment_dms(bot)
    pressed_at = clock()

    reply = await click_and_wait(bot, MOD1, f"D{MOD1}", "comment.snooze", "CM-0001")
    assert "Snoozed. I'll remind you about CM-0001 in an hour" in reply

    clock.current = pressed_at + timedelta(minutes=59)
    await sweep(bot)
    assert len(posts(bot, MOD1)) == 1  # only the "new comment" DM so far

    clock.current = pressed_at + timedelta(hours=1)
    await sweep(bot)
    calls = await bot.fake.wait_for("chat.postMessage", 2, channel=MOD1)
    assert "Reminder: a comment on Dukeries Sport" in blocks_text(calls[-1])

    clock.current = NUDGE  # the nudge before the deadline still comes
    await sweep(bot)
    calls = await bot.fake.wait_for("chat.postMessage", 3, channel=MOD1)
    assert "Reminder: a comment on Dukeries Sport" in blocks_text(calls[-1])
    assert stored(bot).status == "awaiting"


async def snooze_after_the_nudge(bot, clock) -> None:
    """CM-0001 logged, nudged at 13:00, and MOD1 presses Snooze 1 hour at 13:05."""
    add_account(bot)
    log_comment(bot)
    await new_comment_dms(bot)
    clock.current = NUDGE
    await sweep(bot)
    await bot.fake.wait_for("chat.postMessage", 2, channel=MOD1)
    clock.current = NUDGE + timedelta(minutes=5)
    reply = await click_and_wait(bot, MOD1, f"D{MOD1}", "comment.snooze", "CM-0001")
    assert "Snoozed. I'll remind you about CM-0001 in an hour." in reply


async def test_snooze_after_the_nudge_reminds_again_an_hour_later(bot, clock):
    await snooze_after_the_nudge(bot, clock)
    clock.current = NUDGE + timedelta(hours=1, minutes=5)
    await sweep(bot)
    assert len(posts(bot, MOD1)) == 3, "no reminder an hour after pressing Snooze 1 hour"


async def test_snooze_does_not_swallow_the_deadline_message(bot, clock):
    await snooze_after_the_nudge(bot, clock)
    for moment in (DUE, DUE + timedelta(hours=1)):
        clock.current = moment
        await sweep(bot)
    await bot.fake.wait_for("chat.postMessage", 1, channel=SLT_CHANNEL)  # escalated, as due
    texts = [blocks_text(c) for c in posts(bot, MOD1)]
    told = ("The reply deadline for a comment", "A comment on Dukeries Sport is overdue")
    assert any(lead in t for t in texts[2:] for lead in told), (
        "moderators were never told about the deadline"
    )
