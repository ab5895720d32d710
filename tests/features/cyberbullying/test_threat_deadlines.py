"""Issue 23, point 9: a threat may be carried out within the day ("after school tomorrow"),
so the police decision it needs is due within hours, the same day, and the DSL is reminded
then; closing the case closes its follow-ups, so nobody is reminded about a closed case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress
from bot.features.cases import cards
from bot.storage.tables import AuditEvent, CaseTask
from tests.helpers import grant, make_service, say, the_case
from tests.platforms.test_case_acts_on_every_platform import THREAT_AGAINST_PUPIL

POLICE_DECISION = "Decide whether to involve the police (threat against a pupil)"
LONDON = ZoneInfo("Europe/London")


def tasks(service, ref: str) -> list[CaseTask]:
    case_id = the_case(service, ref).id
    with service.kernel.session() as session:
        return list(session.exec(select(CaseTask).where(CaseTask.case_id == case_id)))


@pytest.fixture
def thursday(clock):
    """Thursday 26 November 2026, 16:00: school has just finished."""
    clock.current = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    return clock


@pytest.mark.issue(23, 9)
def test_an_urgent_threat_gets_a_same_day_police_decision(sqlite_url, thursday, tmp_path):
    service = make_service(sqlite_url, "dukeries-academy", thursday, tmp_path / "evidence")
    grant(service, "dsl1", "dsl")
    say(service, "teacher", *THREAT_AGAINST_PUPIL)
    assert the_case(service, "CB-0001").urgent
    [decision] = [t for t in tasks(service, "CB-0001") if t.title == POLICE_DECISION]
    due = decision.due_at.replace(tzinfo=decision.due_at.tzinfo or UTC)
    reported = thursday()
    assert due - reported <= timedelta(hours=2)
    assert due.astimezone(LONDON).date() == reported.astimezone(LONDON).date()

    service.intake.inbox("console", "dsl1")  # the alert, read
    thursday.advance(hours=2)
    service.sweep()
    sent = service.intake.inbox("console", "dsl1")
    [reminder] = [m for m in sent if m.title == "Follow-up due: CB-0001"]
    assert POLICE_DECISION in reminder.text


@pytest.mark.issue(23, 9)
def test_closing_a_case_in_chat_closes_its_follow_ups_and_says_so(sqlite_url, thursday, tmp_path):
    service = make_service(sqlite_url, "dukeries-academy", thursday, tmp_path / "evidence")
    grant(service, "dsl1", "dsl")
    say(service, "teacher", *THREAT_AGAINST_PUPIL)
    opened = tasks(service, "CB-0001")
    assert opened and all(t.done_at is None for t in opened)
    close = ButtonPress(
        "console", "dsl1", cards.CASE_CLOSE, "CB-0001", text="Police called", name="Mr Patel"
    )
    [done] = service.press(close).replies
    assert f"Its {len(opened)} open follow-up task" in done.text
    assert "marked done with it" in done.text
    closed = tasks(service, "CB-0001")
    assert all(t.done_at is not None and t.done_by == "console:dsl1" for t in closed)
    with service.kernel.session() as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "case.closed"))
        assert event.detail["tasks_closed"] == len(opened)
    service.intake.inbox("console", "dsl1")
    thursday.advance(days=3)
    service.sweep()
    sent = service.intake.inbox("console", "dsl1")
    assert not [m for m in sent if "Follow-up due" in (m.title or "")]
