"""Issue 21 as a person meets it on every platform (the terminal, Slack over the fake Web
API, Teams over the fake connector): danger first, what it involves, a nude image never
collected, a concern about a colleague that never reaches them, no unfinished report lost.
The drivers are the platform contract's own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.domain.harm import NUDE_UPLOAD_REFUSED
from bot.storage.tables import AuditEvent, Case, DialogState, Evidence, Outbox
from tests.fakes.drivers import Driver, Slack, Teams, send_file
from tests.helpers import grant

PNG = b"\x89PNG\r\n\x1a\n an image that must never be kept"


async def attach(driver: Driver, user: str, name: str, tmp_path: Path) -> str:
    """Send a file as each platform sends one; what the person reads back."""
    return await send_file(driver, user, name, PNG, tmp_path)


def fetched(driver: Driver) -> list[str]:
    if isinstance(driver, Slack):
        return driver.bot.fake.fetched
    if isinstance(driver, Teams):
        return driver.teams.fake.fetched
    return []


def cases(driver: Driver) -> list[Case]:
    with driver.service.kernel.session() as session:
        return list(session.exec(select(Case).order_by(Case.id)))  # type: ignore[arg-type]


def dsl_alerts(driver: Driver, ref: str) -> list[Outbox]:
    with driver.service.kernel.session() as session:
        return [
            row
            for row in session.exec(select(Outbox).where(Outbox.target_kind == "team"))
            if row.target == "dsl" and ref in str(row.message)
        ]


@pytest.mark.issue(21, 1)
async def test_danger_first_a_threat_to_a_pupil_alerts_the_dsl_before_any_other_question(
    driver: Driver,
):
    grant(driver.service, driver.stored(driver.user("dsl")), "dsl", platform=driver.platform)
    grant(driver.service, driver.stored(driver.user("dep")), "deputy_dsl", platform=driver.platform)
    user = driver.user("tara")
    first = await driver.say(user, "someone says they will stab her at the bus stop tomorrow")
    assert "Who is being targeted?" in first
    asked = await driver.choose(user, "A pupil")
    assert "is a child in danger right now" in asked
    told = await driver.choose(user, "Yes")
    assert "call 999" in told and "in person" in told
    assert "urgent alert" in told and "CB-0001" in told
    # The alert went before any other answer, to the DSL team, urgent, naming DSL and deputy.
    [case] = cases(driver)
    assert case.urgent and case.team == "dsl" and "danger_now" in case.flags
    [alert] = dsl_alerts(driver, "CB-0001")
    mentioned = {user_id for user_id, _ in alert.message.get("mentions") or []}
    assert {driver.stored(driver.user("dsl")), driver.stored(driver.user("dep"))} <= mentioned
    # The rest joins the same case: no second case.
    assert "What does it involve?" in told or "I think it involves" in told
    await driver.choose(user, "Threats of violence")
    await driver.choose(user, "Snapchat")
    await driver.say(user, "no link")
    await driver.say(user, "today")
    await driver.say(user, "A message saying they will stab her at the bus stop")
    await driver.choose(user, "Done")
    await driver.choose(user, "Yes")
    done = await driver.choose(user, "Yes")
    assert "I've added all of this to CB-0001." in done
    [case] = cases(driver)
    assert case.details["description"] == "A message saying they will stab her at the bus stop"


@pytest.mark.issue(21, 2)
async def test_what_it_is_about_free_text_suggests_the_category_and_the_teacher_confirms(
    driver: Driver,
):
    user = driver.user("uma")
    await driver.say(user, "a year 8 boy is hurting himself and posting about it")
    asked = await driver.choose(user, "No")  # nobody in danger right now
    assert "I think it involves self-harm or suicide" in asked
    await driver.choose(user, "Self-harm or suicide")
    with driver.service.kernel.session() as session:
        row = session.exec(select(DialogState)).one()
    assert row.state["answers"]["harm"] == "self_harm"


@pytest.mark.issue(21, 3)
async def test_nude_image_uploads_are_refused_with_nothing_on_disk_or_in_the_database(
    driver: Driver, tmp_path: Path
):
    user = driver.user("vic")
    await driver.say(user, "nudes of a year 10 girl are going round on snapchat")
    await driver.choose(user, "No")
    told = await driver.choose(user, "Nude or semi-nude images of someone under 18")
    assert "Don't view, copy, print, share, save or forward the image" in told
    assert "don't ask the pupil" in told.lower() or "Don't ask the pupil" in told
    refused = await attach(driver, user, "photo.png", tmp_path)
    assert NUDE_UPLOAD_REFUSED in refused
    assert fetched(driver) == []  # not a byte was downloaded
    evidence = tmp_path / "evidence"
    assert not evidence.exists() or not [p for p in evidence.rglob("*") if p.is_file()]
    with driver.service.kernel.session() as session:
        assert not list(session.exec(select(Evidence)))
        [row] = session.exec(select(DialogState))
        assert "photo.png" not in str(row.state)
        assert "evidence" not in row.state["answers"]
    [case] = cases(driver)  # the alarm opened the urgent case when the category was chosen
    assert case.urgent and "harm:nudes" in case.flags


@pytest.mark.issue(21, 3)
async def test_a_file_sent_before_the_category_was_known_is_removed_and_named_by_its_hash(
    driver: Driver, tmp_path: Path
):
    user = driver.user("wes")
    await driver.say(user, "someone is posting nasty things about a pupil")
    kept = await attach(driver, user, "screen.png", tmp_path)
    assert "kept screen.png" in kept
    stored = [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
    assert len(stored) == 1
    sha256 = stored[0].name
    await driver.choose(user, "No")
    await driver.choose(user, "Nude or semi-nude images of someone under 18")
    assert not [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
    [case] = cases(driver)
    with driver.service.kernel.session() as session:
        removed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "evidence.removed")
        ).all()
    assert [(e.subject, e.detail["sha256"]) for e in removed] == [(case.ref, sha256)]


@pytest.mark.issue(21, 4)
async def test_a_concern_about_a_colleague_reaches_the_head_by_direct_message_never_a_channel(
    driver: Driver,
):
    head = driver.stored(driver.user("head"))
    grant(driver.service, head, "principal", platform=driver.platform)
    grant(driver.service, driver.stored(driver.user("dsl")), "dsl", platform=driver.platform)
    user = driver.user("yas")
    await driver.say(user, "I'm worried about a colleague")
    await driver.choose(user, "They may have harmed a child, or may be a risk to children")
    await driver.choose(user, "Designated Safeguarding Lead")
    await driver.say(user, "Mr Patel")
    await driver.choose(user, "No")
    await driver.choose(user, "Snapchat")
    await driver.say(user, "Messages to a Year 9 pupil late at night")
    done = await driver.say(user, "yesterday")
    assert "privately to the Principal only" in done and "SC-0001" in done
    assert "don't tell your colleague" in done
    with driver.service.kernel.session() as session:
        rows = session.exec(select(Outbox).where(Outbox.case_id.is_not(None))).all()  # type: ignore[union-attr]
    assert rows and {(r.target_kind, r.target) for r in rows} == {("user", head)}
    if isinstance(driver, Slack):
        [posted] = await driver.bot.fake.wait_for("chat.postMessage", channel=head)
        assert "SC-0001" in str(posted.args)
        from tests.fakes.slack_harness import DSL_CHANNEL, SLT_CHANNEL

        for channel in (DSL_CHANNEL, SLT_CHANNEL):
            assert not driver.bot.fake.called("chat.postMessage", channel=channel)


@pytest.mark.issue(21, 5)
async def test_unfinished_the_reporter_is_reminded_and_the_dsl_hears_of_one_about_a_child(
    driver: Driver, clock
):
    clock.current = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # a Monday afternoon
    grant(driver.service, driver.stored(driver.user("dsl")), "dsl", platform=driver.platform)
    user = driver.user("zed")
    await driver.say(user, "a year 7 pupil sent me self-harm pictures")
    await driver.choose(user, "No")
    clock.advance(minutes=31)
    driver.service.sweep()
    reminded = await driver.later(user, "haven't finished it")
    assert "You started this and haven't finished it" in reminded
    clock.advance(minutes=30)
    driver.service.sweep()
    passed_on = await driver.later(user, "passed what you told me")
    assert "passed what you told me so far to the safeguarding lead (CB-0001)" in passed_on
    [case] = cases(driver)
    assert case.team == "dsl" and case.urgent and "unfinished" in case.flags
    [alert] = dsl_alerts(driver, "CB-0001")
    assert "Ask the reporter" in str(alert.message["buttons"])


@pytest.mark.issue(21, 1)
async def test_danger_not_sure_is_an_answer_that_takes_the_urgent_path_to_the_dsl(
    driver: Driver,
):
    grant(driver.service, driver.stored(driver.user("dsl")), "dsl", platform=driver.platform)
    user = driver.user("ana")
    asked = await driver.say(user, "a year 9 girl said someone is waiting for her after school")
    assert "is a child in danger right now" in asked and "Not sure" in asked
    told = await driver.say(user, "not sure")
    assert "Please answer yes or no" not in told
    assert "not being sure is reason enough" in told
    assert "in person now" in told and "call 999" in told
    assert "urgent alert" in told and "CB-0001" in told
    [case] = cases(driver)
    assert case.urgent and case.team == "dsl" and "danger_now" in case.flags
    assert case.summary["danger"] == "not sure"
    assert dsl_alerts(driver, "CB-0001")
    shown = await driver.say(driver.user("dsl"), "case CB-0001")
    assert "Not sure" in shown
    # The flag says what is true of a "not sure" as of a yes, never "IN DANGER NOW".
    assert "CHILD MAY BE IN DANGER NOW" in shown and "CHILD IN DANGER NOW" not in shown


@pytest.mark.issue(21, 1)
async def test_danger_not_sure_button_and_words_typed_are_kept(driver: Driver):
    user = driver.user("ben")
    await driver.say(user, "a pupil is being sent nasty messages")
    told = await driver.say(user, "maybe, she looked scared when she left")
    assert "not being sure is reason enough" in told
    [case] = cases(driver)
    assert case.details["danger"] == "not_sure"
    assert case.details["danger_words"] == "maybe, she looked scared when she left"
    other = driver.user("cat")
    await driver.say(other, "a pupil is being sent nasty messages")
    told = await driver.choose(other, "Not sure")
    assert "not being sure is reason enough" in told
    assert [c.details["danger"] for c in cases(driver)] == ["not_sure", "not_sure"]
    assert "danger_words" not in cases(driver)[1].details


@pytest.mark.issue(21, 1)
async def test_danger_not_right_now_is_a_no_with_the_words_kept(driver: Driver):
    user = driver.user("dan")
    await driver.say(user, "a pupil is being sent nasty messages")
    told = await driver.say(user, "not right now, she's in my tutor room")
    assert "Please answer yes or no" not in told
    assert "call 999" not in told and not cases(driver)
    with driver.service.kernel.session() as session:
        row = session.exec(select(DialogState)).one()
    assert row.state["answers"]["danger"] is False
    assert row.state["answers"]["danger_words"] == "not right now, she's in my tutor room"


REFUSED_LINE = "tried to send a file"


def chronology(driver: Driver, ref: str) -> list[str]:
    """The workspace's chronology of a case, as the DSL reads it there."""
    from bot.web.casefile import build_case_file

    with driver.service.kernel.session() as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        record = build_case_file(session, driver.service.kernel, case)
    return [event.what for event in record.chronology]


@pytest.mark.issue(21, 3)
async def test_refused_upload_is_in_the_case_the_dsl_reads_when_the_case_is_open(
    driver: Driver, tmp_path: Path
):
    grant(driver.service, driver.stored(driver.user("dsl")), "dsl", platform=driver.platform)
    user = driver.user("eve")
    await driver.say(user, "nudes of a year 10 girl are going round on snapchat")
    await driver.choose(user, "No")
    await driver.choose(user, "Nude or semi-nude images of someone under 18")
    assert NUDE_UPLOAD_REFUSED in await attach(driver, user, "photo.png", tmp_path)
    [case] = cases(driver)
    shown = await driver.say(driver.user("dsl"), f"case {case.ref}")
    assert "Evidence: none." in shown
    assert "tried to send a file" in shown and "refused and not kept" in shown
    assert "UKCIS" in shown and "photo.png" not in shown
    said = [w for w in chronology(driver, case.ref) if REFUSED_LINE in w]
    assert len(said) == 1


@pytest.mark.issue(21, 3)
async def test_refused_upload_before_the_case_opened_is_recorded_when_it_opens(
    driver: Driver, tmp_path: Path
):
    grant(driver.service, driver.stored(driver.user("dsl")), "dsl", platform=driver.platform)
    user = driver.user("fay")
    await driver.say(user, "nudes of a year 10 girl are going round on snapchat")
    dm = f"D{user}"
    before = (
        len(driver.bot.fake.called("chat.postMessage", channel=dm))
        if isinstance(driver, Slack)
        else 0
    )
    assert NUDE_UPLOAD_REFUSED in await attach(driver, user, "photo.png", tmp_path)
    if isinstance(driver, Slack):  # the refusal, then the question again: wait for both
        await driver.bot.fake.wait_for("chat.postMessage", before + 2, channel=dm)
    assert not cases(driver)
    await driver.choose(user, "No")
    await driver.choose(user, "Nude or semi-nude images of someone under 18")
    [case] = cases(driver)
    shown = await driver.say(driver.user("dsl"), f"case {case.ref}")
    assert "tried to send a file" in shown and "photo.png" not in shown
    assert [w for w in chronology(driver, case.ref) if REFUSED_LINE in w]
