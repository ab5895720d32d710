"""Reopening a closed case (issue 23, point 1), on SQLite and PostgreSQL: the team's reason
in the chronology and its view, the follow-ups closed with it open again, the reporter told
nothing, and the same checks as every case button."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.storage.tables import AuditEvent, CaseTask
from tests.helpers import grant, make_service, say, the_case
from tests.platforms.test_case_acts_on_every_platform import THREAT_AGAINST_PUPIL


def press(service, user, action, text=None, message=None):
    pressed = ButtonPress("console", user, action, "CB-0001", text, message, name="Mr Patel")
    return [m.text for m in service.press(pressed).replies]


@pytest.mark.issue(23, 1)
def test_reopening_keeps_the_reason_and_reopens_the_follow_ups(database_url, clock, tmp_path):
    service = make_service(database_url, "dukeries-academy", clock, tmp_path / "evidence")
    grant(service, "dsl1", "dsl")
    grant(service, "head", "headteacher", "slt")
    say(service, "teacher", *THREAT_AGAINST_PUPIL)
    service.intake.inbox("console", "teacher")
    [refused] = press(service, "dsl1", cards.CASE_REOPEN, "Too soon")
    assert refused == "CB-0001 is open already. Nothing has changed."
    press(service, "dsl1", cards.CASE_CLOSE, "Police informed")
    [closed_notice] = service.intake.inbox("console", "teacher")
    assert "is now closed" in closed_notice.text

    [other_team] = press(service, "head", cards.CASE_REOPEN, "I'd like it open")
    assert "Only the safeguarding (DSL) team" in other_team
    [no_reason] = press(service, "dsl1", cards.CASE_REOPEN, "  ")
    assert "Please say why" in no_reason and the_case(service, "CB-0001").status == "closed"
    [done] = press(service, "dsl1", cards.CASE_REOPEN, "He was threatened again")
    assert done.startswith("CB-0001 is open again (Acknowledged). Its 1 follow-up task is open")
    case = the_case(service, "CB-0001")
    assert case.status == "acknowledged" and case.outcome is None and case.closed_at is None
    with service.kernel.session() as session:
        tasks = session.exec(select(CaseTask).where(CaseTask.case_id == case.id)).all()
        assert tasks and all(t.done_at is None and t.done_by is None for t in tasks)
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "case.reopened"))
        assert event.detail["reason"] == "He was threatened again"
    [view] = service.receive(StaffMessage("console", "dsl1", "case CB-0001")).replies
    assert "Reopened by Mr Patel" in view.text and "He was threatened again" in view.text
    assert "with the outcome: Police informed" in view.text  # the earlier outcome is kept
    team_alerts = service.intake.inbox("console", "dsl1")
    assert "He was threatened again" not in team_alerts[-1].text  # the channel sees no reason
    assert service.intake.inbox("console", "teacher") == []  # the reporter is told nothing

    [again] = press(service, "dsl1", cards.CASE_CLOSE, "Police arrested the sender")
    assert "closed again" in again and service.intake.inbox("console", "teacher") == []
    assert "open again" in press(service, "dsl1", cards.CASE_REOPEN, "One more check")[0]
    [told] = press(service, "dsl1", cards.CASE_CLOSE, "Checked", "All sorted now, thank you")
    assert "told with your message" in told
    [notice] = service.intake.inbox("console", "teacher")
    assert notice.text.endswith("A message from Mr Patel: All sorted now, thank you")
