"""No half-finished report is lost (issue 21 point 5, SG-UNFINISHED): the reporter is
reminded, one about a child reaches the DSL, and nothing unfinished goes unlogged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress, StaffMessage
from bot.records.retention import RetentionSweep
from bot.storage.tables import Case, DialogState, Disposal
from tests.fakes.slack_harness import DSL_CHANNEL, blocks_text
from tests.helpers import grant, last_alert_button, say, seen

MONDAY_2PM = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def inbox(service, user: str) -> list[str]:
    return [seen(m) for m in service.intake.inbox("console", user)]


@pytest.mark.issue(21, 5)
def test_unfinished_reminders_after_30_minutes_and_the_next_working_morning(service_factory, clock):
    clock.current = MONDAY_2PM
    service = service_factory("default")
    say(service, "alice", "a parent is posting about me on facebook")
    clock.advance(minutes=29)
    service.sweep()
    assert inbox(service, "alice") == []
    clock.advance(minutes=2)
    service.sweep()
    [reminder] = inbox(service, "alice")
    assert "You started this and haven't finished it" in reminder
    assert "Who is being targeted?" in reminder  # the question it waits on
    clock.advance(hours=3)
    service.sweep()
    assert inbox(service, "alice") == []  # once, not every tick
    clock.current = datetime(2026, 12, 8, 8, 5, tzinfo=UTC)  # Tuesday morning
    service.sweep()
    [morning] = inbox(service, "alice")
    assert "Good morning. Your report is still unfinished." in morning
    # Not about a child: the DSL never hears of it.
    with service.kernel.session() as session:
        assert session.exec(select(Case)).all() == []


@pytest.mark.issue(21, 5)
def test_unfinished_report_about_a_child_reaches_the_dsl_after_a_working_hour(
    service_factory, clock
):
    clock.current = MONDAY_2PM
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    say(service, "alice", "Y7 pupil sent self-harm images", "no")
    clock.advance(minutes=59)
    service.sweep()
    assert not [t for t in inbox(service, "dsl1")]
    clock.advance(minutes=2)
    service.sweep()
    [alert] = inbox(service, "dsl1")
    assert "URGENT" in alert and "unfinished report" in alert
    told = "\n".join(inbox(service, "alice"))
    assert "passed what you told me so far to the safeguarding lead (CB-0001)" in told
    [reply] = service.receive(StaffMessage("console", "dsl1", "case CB-0001")).replies
    view = seen(reply)
    assert "Their first message: Y7 pupil sent self-harm images" in view
    assert "Left unfinished by its reporter (last answer" in view
    # Ask the reporter: a button on the DSL's alert.
    with service.kernel.session() as session:
        case = session.exec(select(Case)).one()
    assert "unfinished" in case.flags
    # What the reporter adds later joins the same case, which is no longer "unfinished".
    said = say(
        service, "alice", "Self-harm or suicide", "instagram", "no link", "today",
        "Images of cuts sent to a friend", "done", "no", "yes",
    )  # fmt: skip
    assert "I've added all of this to CB-0001." in said[-1]
    with service.kernel.session() as session:
        [case] = session.exec(select(Case)).all()
    assert "unfinished" not in case.flags and case.details["harm"] == "self_harm"


@pytest.mark.issue(21, 5)
def test_nothing_unfinished_is_deleted_without_a_line_in_the_disposal_log(service_factory, clock):
    clock.current = MONDAY_2PM
    service = service_factory("default")
    say(service, "bob", "a parent is posting about me on facebook")
    clock.advance(days=40)
    RetentionSweep(service.kernel).sweep()
    with service.kernel.session() as session:
        assert session.exec(select(DialogState)).all() == []
        [entry] = session.exec(select(Disposal)).all()
    assert entry.record_type == "conversation"


@pytest.mark.issue(21, 5)
async def test_slack_reporter_is_reminded_and_the_dsl_channel_hears_of_an_unfinished_report(
    bot, clock
):
    clock.current = MONDAY_2PM
    grant(bot.service, "UDSL", "dsl", platform="slack")
    await bot.say("U1", "a year 9 girl is being sent nudes by an older man")
    await bot.answer("U1", "No")
    clock.advance(hours=1, minutes=1)
    bot.service.sweep()
    [alert] = await bot.fake.wait_for("chat.postMessage", channel=DSL_CHANNEL)
    assert "unfinished report" in blocks_text(alert) and "<@UDSL>" in alert.args["text"]
    assert "Ask the reporter" in json_of(alert)
    posted = await bot.fake.wait_for("chat.postMessage", 2, channel="U1")  # the bot's own DMs
    texts = [blocks_text(p) for p in posted]
    assert any("You started this and haven't finished it" in t for t in texts)
    assert any("passed what you told me so far to the safeguarding lead" in t for t in texts)


def json_of(call) -> str:
    import json

    return json.dumps(call.args.get("blocks"))


@pytest.mark.issue(21, 5)
def test_ask_the_reporter_reaches_them_and_only_the_dsl_team_may_press_it(service_factory, clock):
    clock.current = MONDAY_2PM
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    say(service, "alice", "Y7 pupil sent self-harm images", "no")
    clock.advance(hours=1, minutes=1)
    service.sweep()
    inbox(service, "alice")
    button = last_alert_button(service, "dsl1", "Ask the reporter")
    press = ButtonPress("console", "bob", button.action, button.value, None, None, "Bob")
    [refused] = service.press(press).replies
    assert "CB-0001" not in "\n".join(inbox(service, "alice"))
    assert refused.text and "asked the reporter" not in refused.text
    press = ButtonPress("console", "dsl1", button.action, button.value, None, None, "Mr Patel")
    [done] = service.press(press).replies
    assert "I've asked the reporter to finish CB-0001" in done.text
    [asked] = inbox(service, "alice")
    assert "Mr Patel has seen the report you started (CB-0001)" in asked


@pytest.mark.issue(21, 5)
def test_cancelling_a_report_about_a_child_says_to_tell_the_dsl_in_person(service_factory):
    service = service_factory("default")
    say(service, "cat", "nudes of a yr10 girl going round on snap")
    [stopped, told] = say_all(service, "cat", "cancel")
    assert "Nothing was sent to anyone" in stopped
    assert "please tell the Designated Safeguarding Lead in person today" in told
    say_all(service, "dan", "report abuse")
    assert "please tell" not in " ".join(say_all(service, "dan", "cancel"))


@pytest.mark.issue(21, 5)
def test_reminders_reach_new_reports_however_many_old_ones_wait(service_factory, clock):
    clock.current = MONDAY_2PM
    service = service_factory("default")
    for n in range(30):  # idle for days, all already reminded
        say(service, f"old{n}", "a parent is posting about me on facebook")
    for _ in range(3):
        clock.advance(days=1)
        service.sweep()
    say(service, "new", "a parent is posting about me on facebook")
    clock.advance(minutes=31)
    service.sweep()
    assert any("haven't finished it" in t for t in inbox(service, "new"))


def say_all(service, user: str, text: str) -> list[str]:
    return [m.text for m in service.receive(StaffMessage("console", user, text)).replies]
