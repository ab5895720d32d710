"""Issue 23 as the DSL meets it in chat on every platform (the terminal, Slack over the fake
Web API, Teams over the fake connector): `cancel` at a button's form changes nothing, a
closed case can be reopened with a reason (and the reporter is not told again), and what
the bot says about a closed or new case is true to the case as it is now."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.storage.tables import AuditEvent, Outbox
from tests.fakes.drivers import Driver, Terminal
from tests.helpers import grant, say, the_case

# A threat against a pupil, told by a teacher at the terminal: an urgent case for the DSL.
THREAT_AGAINST_PUPIL = [
    "I want to report cyberbullying",
    "a pupil",
    "no",  # nobody in danger right now
    "threats of violence",
    "snapchat",
    "no link",
    "yesterday",
    "Messages saying he'll be beaten up after school tomorrow",
    "done",
    "yes",  # threatening
    "no",  # posted by a pupil?
]


def urgent_case(driver: Driver) -> tuple[str, str]:
    """The DSL on this platform, and the reference of a new urgent case for their team."""
    dsl = driver.user("dsl")
    grant(driver.service, driver.stored(dsl), "dsl", platform=driver.platform)
    say(driver.service, "teacher", *THREAT_AGAINST_PUPIL)
    case = the_case(driver.service, "CB-0001")
    assert case.urgent and case.status == "new"
    return dsl, case.ref


def told_reporter(driver: Driver) -> list[str]:
    with driver.service.kernel.session() as session:
        rows = session.exec(
            select(Outbox).where(Outbox.target_kind == "user", Outbox.target == "teacher")
        )
        return [str(row.message["text"]) for row in rows]


def events(driver: Driver, action: str) -> list[AuditEvent]:
    with driver.service.kernel.session() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.exec(query))


async def close(driver: Driver, dsl: str, ref: str, *form: str) -> str:
    """Close the case from its view (`case REF`), as the DSL would in a chat."""
    view = await driver.say(dsl, f"case {ref}")
    assert "Close with outcome" in view
    return await driver.press(dsl, "Close with outcome", *form)


async def reopen(driver: Driver, dsl: str, ref: str, reason: str) -> str:
    """`reopen REF`: the terminal asks why on the next line; Slack and Teams offer the
    Reopen button, whose form asks why."""
    if isinstance(driver, Terminal):
        return await driver.press(dsl, f"reopen {ref}", reason)
    offered = await driver.say(dsl, f"reopen {ref}")
    assert "Reopen" in offered and "the reporter isn't told" in offered
    return await driver.press(dsl, "Reopen", reason)


@pytest.mark.issue(23, 1)
async def test_cancel_at_a_follow_up_prompt_leaves_it_with_nothing_changed(driver: Driver):
    dsl, ref = urgent_case(driver)
    left = await close(driver, dsl, ref, "cancel")
    assert "Nothing has changed: CB-0001 is as it was." in left
    assert the_case(driver.service, ref).status == "new"
    left = await close(driver, dsl, ref, "Spoke to the family", "cancel")
    assert "Nothing has changed" in left
    assert the_case(driver.service, ref).status == "new"
    assert not [t for t in told_reporter(driver) if "cancel" in t or "closed" in t]


@pytest.mark.issue(23, 1)
async def test_a_closed_case_is_reopened_in_chat_with_a_reason(driver: Driver):
    dsl, ref = urgent_case(driver)
    closed = await close(driver, dsl, ref, "Parents spoken to; police not needed")
    assert "CB-0001 is closed" in closed
    notices = len(told_reporter(driver))

    reopened = await reopen(driver, dsl, ref, "The threats started again this morning")
    assert "CB-0001 is open again" in reopened and "The reporter hasn't been told" in reopened
    case = the_case(driver.service, ref)
    assert case.status == "acknowledged" and case.closed_at is None
    [event] = events(driver, "case.reopened")
    assert event.detail["reason"] == "The threats started again this morning"
    view = await driver.say(dsl, f"case {ref}")
    assert "Reopened by" in view and "The threats started again this morning" in view
    assert "Close with outcome" in view

    again = await close(driver, dsl, ref, "Police informed; family supported")
    assert "closed again" in again and "haven't been told again" in again
    assert len(told_reporter(driver)) == notices  # told once that it closed, not spammed


@pytest.mark.issue(23, 1)
async def test_only_the_owning_team_can_reopen(driver: Driver):
    dsl, ref = urgent_case(driver)
    await close(driver, dsl, ref, "Resolved")
    other = driver.user("slt")
    grant(driver.service, driver.stored(other), "slt", platform=driver.platform)
    refused = await driver.say(other, f"reopen {ref}")
    assert "Reopen" not in refused.replace("reopen CB", "")
    assert the_case(driver.service, ref).status == "closed"
    assert events(driver, "case.reopened") == []


@pytest.mark.issue(23, 12)
async def test_case_view_of_a_new_urgent_case_offers_acknowledge(driver: Driver):
    dsl, ref = urgent_case(driver)
    await driver.say(dsl, "")  # the terminal shows the alert first: read it
    view = await driver.say(dsl, f"case {ref}")
    assert "Acknowledge" in view
    acknowledged = await driver.press(dsl, "Acknowledge")
    assert "you've acknowledged CB-0001" in acknowledged
    assert the_case(driver.service, ref).status == "acknowledged"


@pytest.mark.issue(23, 12)
async def test_acknowledging_a_closed_never_acknowledged_case_says_it_is_closed(driver: Driver):
    dsl, ref = urgent_case(driver)
    await close(driver, dsl, ref, "Dealt with in person")
    assert the_case(driver.service, ref).acknowledged_at is None
    if isinstance(driver, Terminal):
        said = await driver.say(dsl, f"acknowledge {ref}")
    else:  # the Acknowledge button on the case view shown before it closed
        said = await driver.press(dsl, "Acknowledge")
    assert "already acknowledged" not in said
    assert "CB-0001 is closed" in said
    assert the_case(driver.service, ref).status == "closed"
