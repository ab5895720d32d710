"""Reminders about cases: only an urgent case nobody acknowledges is sent again and then
passed to the Deputy DSL (saying so plainly when there is none); follow-ups fall due.

The clock starts on Saturday 21 November 2026, 15:00 GMT (see conftest); every sweep is
one scheduler tick."""

from __future__ import annotations

import pytest

from bot.domain.turns import ButtonPress
from tests.helpers import (
    CB_ABOUT_ME,
    CB_AFTER_EVIDENCE,
    FR_ANSWERS,
    grant,
    report_fr,
    say,
    seen,
    the_case,
)


@pytest.mark.issue(10, 8)
def test_routine_dsl_case_is_not_realerted_or_passed_to_the_deputy(service_factory, clock):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "dep", "deputy_dsl")
    report_fr(service)  # routine: nothing worrying
    assert not the_case(service, "FR-0001").urgent
    service.intake.inbox("console", "dsl1")
    service.intake.inbox("console", "dep")
    clock.advance(hours=14)  # overnight
    service.sweep()
    assert service.intake.inbox("console", "dsl1") == []
    assert service.intake.inbox("console", "dep") == []


@pytest.mark.issue(10, 8)
def test_urgent_case_goes_to_the_deputy_and_no_deputy_is_said_plainly(service_factory, clock):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    grant(service, "dep", "deputy_dsl")
    report_fr(service, concerning="yes")
    service.intake.inbox("console", "dsl1")
    service.intake.inbox("console", "dep")
    clock.advance(minutes=61)
    service.sweep()
    team = [seen(m) for m in service.intake.inbox("console", "dsl1")]
    assert any("It has now been sent to the Deputy DSL as well." in t for t in team), team
    assert not any("You are the deputy" in t or "come to you" in t for t in team), team
    deputy = [seen(m) for m in service.intake.inbox("console", "dep")]
    assert any("It has come to you as Deputy DSL." in t for t in deputy), deputy

    lone = service_factory("default", url=None)
    with lone.kernel.session() as session:  # the same database: take the deputy away
        from bot.storage import repository as repo

        repo.remove_role(session, "console", "dep", "deputy_dsl")
        session.commit()
    report_fr(lone, concerning="yes", user="carl", name="Carl")
    lone.intake.inbox("console", "dsl1")
    clock.advance(minutes=61)
    lone.sweep()
    told = [seen(m) for m in lone.intake.inbox("console", "dsl1") if "FR-0002" in seen(m)]
    assert any("Nobody holds the Deputy DSL role, so it could not be passed on." in t for t in told)
    assert not any("You are the deputy" in t or "come to you" in t for t in told), told


def test_unacknowledged_dsl_case_is_realerted_then_sent_to_the_deputy(service_factory, clock):
    service = service_factory("dukeries-academy")
    grant(service, "dsl1", "dsl")
    grant(service, "deputy1", "deputy_dsl")
    say(
        service, "alice", *FR_ANSWERS[:-1], "yes, she says she is scared to go home", "no", "done"
    )  # urgent: routine cases are not re-sent
    service.intake.inbox("console", "dsl1")
    service.intake.inbox("console", "deputy1")
    minutes = service.kernel.pack.alerts.unacknowledged_realert_minutes
    clock.advance(minutes=minutes)
    service.sweep()
    [again] = service.intake.inbox("console", "dsl1")
    assert again.title == "Still waiting: FR-0001"
    clock.advance(minutes=minutes)
    service.sweep()
    deputy = service.intake.inbox("console", "deputy1")
    assert any("It has come to you as Deputy DSL" in m.text for m in deputy)


def test_acknowledged_case_is_not_realerted(service_factory, clock):
    service = service_factory("dukeries-academy")
    grant(service, "dsl1", "dsl")
    say(service, "alice", *FR_ANSWERS)
    service.press(ButtonPress("console", "dsl1", "case.ack", "FR-0001"))
    service.intake.inbox("console", "dsl1")
    clock.advance(hours=3)
    service.sweep()
    assert [m.title for m in service.intake.inbox("console", "dsl1")] == []


def test_removal_follow_up_reminder_for_cyberbullying(service_factory, clock):
    service = service_factory("harmonize-academy")
    grant(service, "slt1", "slt")
    say(service, "dan", *CB_ABOUT_ME, *CB_AFTER_EVIDENCE)
    service.intake.inbox("console", "slt1")
    clock.advance(hours=24)
    service.sweep()
    follow_ups = [
        m for m in service.intake.inbox("console", "slt1") if m.title == "Follow-up due: CB-0001"
    ]
    assert any("remove the material" in m.text and "(Policy 8)" in m.text for m in follow_ups)
