"""The escalation ladder (issue 26): an alert nobody acknowledges is posted again with a
mention, passed to the deputy, emailed to the DSL team, then to the Headteacher; urgent
ones in minutes around the clock, routine ones in working hours on the school calendar.
Each level fires once, even with two instances sweeping one PostgreSQL database;
acknowledging stops it; a case owned by one role is only ever emailed to that role.

The clock starts on Saturday 21 November 2026, 15:00 GMT (see conftest).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress
from bot.features.cases import reminders
from bot.storage import repository as repo
from bot.storage.tables import Outbox, Reminder
from tests.helpers import FR_UP_TO_CONCERNING, grant, make_service, report_fr, tell, the_case

ADDRESSES = {
    "dsl1": "dsl@school.example",
    "dep": "deputy@school.example",
    "head": "head@school.example",
    "chair": "chair@school.example",
}


def staffed(service) -> None:
    """One holder per role, each with an address; email on."""
    for user, role in (
        ("dsl1", "dsl"),
        ("dep", "deputy_dsl"),
        ("head", "headteacher"),
        ("chair", "chair_of_governors"),
    ):
        grant(service, user, role)
    with service.kernel.session() as session:
        for user, address in ADDRESSES.items():
            repo.set_email(session, "console", user, address)
        session.commit()
    service.outbox.emails = True


def sent(service) -> list[Outbox]:
    with service.kernel.session() as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)))  # type: ignore[arg-type]


def emailed(service) -> list[str]:
    return [r.target for r in sent(service) if r.platform == "email"]


def still_waiting(service) -> int:
    return sum(1 for r in sent(service) if (r.message.get("title") or "").startswith("Still"))


@pytest.mark.issue(26, 1)
def test_urgent_ladder_in_minutes_each_level_once(service_factory, clock):
    service = service_factory("default")
    staffed(service)
    report_fr(service, concerning="yes")
    case = the_case(service, "FR-0001")
    assert case.urgent
    times = [(level, at.astimezone(UTC).strftime("%a %H:%M")) for level, at in
             reminders.ladder_times(service.kernel, case)]  # fmt: skip
    assert times == [
        ("mention", "Sat 15:30"),
        ("deputy", "Sat 16:00"),
        ("email_leads", "Sat 16:15"),
        ("email_head", "Sat 16:45"),
    ]
    clock.advance(minutes=29)
    service.sweep()
    assert still_waiting(service) == 0
    clock.advance(minutes=1)
    service.sweep()
    service.sweep()
    assert still_waiting(service) == 1  # posted again, mentioning the DSL team
    clock.advance(minutes=30)
    service.sweep()
    deputy = [r for r in sent(service) if r.target_kind == "user" and r.target == "dep"]
    assert deputy and "It has come to you as Deputy DSL" in deputy[-1].message["text"]
    assert emailed(service) == []
    clock.advance(minutes=15)
    service.sweep()
    assert sorted(emailed(service)) == ["console:dep", "console:dsl1"]
    clock.advance(minutes=30)
    service.sweep()
    assert sorted(emailed(service)) == ["console:dep", "console:dsl1", "console:head"]
    # Nothing fires twice, however many sweeps follow.
    clock.advance(hours=12)
    for _ in range(3):
        service.sweep()
    assert sorted(emailed(service)) == ["console:dep", "console:dsl1", "console:head"]
    assert still_waiting(service) == 3  # mention, then the deputy's note in the channel
    # ...and the urgent emails jump the queue.
    assert {r.priority for r in sent(service) if r.platform == "email"} == {0}


@pytest.mark.issue(26, 1)
def test_routine_ladder_runs_in_working_hours_on_the_school_calendar(service_factory, clock):
    service = service_factory("default")
    staffed(service)
    report_fr(service)  # routine, on a Saturday afternoon
    case = the_case(service, "FR-0001")
    assert not case.urgent
    times = [(level, at.astimezone(UTC).strftime("%a %H:%M")) for level, at in
             reminders.ladder_times(service.kernel, case)]  # fmt: skip
    assert times == [
        ("mention", "Mon 12:00"),  # 4 working hours from Monday 08:00
        ("deputy", "Mon 16:00"),
        ("email_leads", "Tue 15:00"),  # 1 hour on Monday, 7 on Tuesday
        ("email_head", "Thu 13:00"),  # 2 + 9 + 5
    ]
    clock.current = datetime(2026, 11, 23, 11, 59, tzinfo=UTC)  # Monday, before noon
    service.sweep()
    assert still_waiting(service) == 0
    clock.current = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 15:00
    service.sweep()
    assert sorted(emailed(service)) == ["console:dep", "console:dsl1"]
    assert {r.priority for r in sent(service) if r.platform == "email"} == {1}


@pytest.mark.issue(26, 1)
def test_acknowledging_in_chat_stops_the_ladder(service_factory, clock):
    service = service_factory("default")
    staffed(service)
    report_fr(service, concerning="yes")
    clock.advance(minutes=31)
    service.sweep()
    assert still_waiting(service) == 1
    service.press(ButtonPress("console", "dsl1", "case.ack", "FR-0001"))
    clock.advance(hours=3)
    service.sweep()
    assert still_waiting(service) == 1 and emailed(service) == []
    with service.kernel.session() as session:
        outcomes = {r.kind: r.outcome for r in session.exec(select(Reminder))}
    assert outcomes["case.email"] == outcomes["case.head"] == "already acknowledged"
    assert outcomes["case.deputy"] == "already acknowledged"


@pytest.mark.issue(26, 1)
def test_a_case_owned_by_one_role_is_emailed_only_to_that_role(service_factory, clock):
    service = service_factory("default")
    staffed(service)
    # An allegation about the Headteacher goes to the chair of governors alone.
    tell(
        service, "bob", "Bob",
        "I'm worried about a colleague",
        "They may have harmed a child, or may be a risk to children",
        "Headteacher", "The head", "no", "facebook", "Photos of pupils", "today",
    )  # fmt: skip
    case = the_case(service, "SC-0001")
    assert case.team == "role:chair_of_governors"
    levels = [level for level, _ in reminders.ladder_times(service.kernel, case)]
    assert levels == ["mention", "email_leads"]  # no deputy, never the Headteacher
    clock.advance(days=14)
    for _ in range(3):
        service.sweep()
    assert emailed(service) == ["console:chair"]
    reached = {r.target for r in sent(service) if r.case_id == case.id}
    assert reached <= {"chair", "console:chair", "bob"}, reached


@pytest.mark.issue(26, 1)
def test_no_email_to_anyone_without_an_address(service_factory, clock):
    service = service_factory("default")
    grant(service, "dsl1", "dsl")
    service.outbox.emails = True
    report_fr(service, concerning="yes")
    clock.advance(hours=2)
    service.sweep()
    assert emailed(service) == []
    with service.kernel.session() as session:
        done = {r.kind: r.outcome for r in session.exec(select(Reminder))}
    assert done["case.email"] == "emailed 0, 1 without an address"


def instance(url: str, clock, tmp_path, n: int):
    return make_service(url, "default", clock, tmp_path / f"evidence{n}")


@pytest.mark.issue(26, 1)
def test_two_instances_on_postgresql_fire_each_level_once(migrated_pg_url, clock, tmp_path):
    one, two = (instance(migrated_pg_url, clock, tmp_path, n) for n in (1, 2))
    staffed(one)
    two.outbox.emails = True
    for n in range(6):  # six urgent reports, each climbing the whole ladder
        assert "FR-" in tell(
            one,
            f"u{n}",
            f"Reporter {n}",
            *FR_UP_TO_CONCERNING,
            "yes, she says she is scared to go home",
            "no",
            "done",
        )
    errors: list[BaseException] = []

    def sweep_forever(service, rounds: int) -> None:
        try:
            for _ in range(rounds):
                service.sweep()
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    for minutes in (30, 30, 15, 30):
        clock.advance(minutes=minutes)
        threads = [
            threading.Thread(target=sweep_forever, args=(s, 4)) for s in (one, two, one, two)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    rows = sent(one)
    mails = Counter((r.case_id, r.target) for r in rows if r.platform == "email")
    assert len(mails) == 6 * 3 and set(mails.values()) == {1}  # DSL, deputy, head: once each
    titles = Counter(
        (r.message["title"], r.target)
        for r in rows
        if r.platform == "console" and (r.message.get("title") or "").startswith("Still")
    )
    # Each case in the channel: the mention and the deputy's note; the deputy: one DM.
    assert len(titles) == 12 and Counter(titles.values()) == {2: 6, 1: 6}, titles
    with one.kernel.session() as session:
        ladder = [r for r in session.exec(select(Reminder)) if r.kind.startswith("case.")]
    assert len(ladder) == 6 * 4 and {r.status for r in ladder} == {"done"}
    one.engine.dispose()
    two.engine.dispose()


@pytest.mark.issue(21, 1)
def test_a_child_in_danger_now_emails_the_dsl_and_deputies_at_once(service_factory):
    service = service_factory("default")
    staffed(service)
    tell(service, "tara", "Tara", "someone says they will stab her at the bus stop tomorrow")
    tell(service, "tara", "Tara", "a pupil", "yes")  # a child is in danger right now
    case = the_case(service, "CB-0001")
    assert "danger_now" in case.flags
    times = dict(reminders.ladder_times(service.kernel, case))
    assert times["email_leads"] == case.created_at  # not after the chat levels
    service.sweep()
    assert sorted(emailed(service)) == ["console:dep", "console:dsl1"]
