"""Case actions (acknowledge, note, close): role-checked, idempotent and audited; who sees
which case; the append-only audit trail. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress, StaffMessage
from bot.features.cases import cards
from bot.storage.tables import AuditEvent
from tests.helpers import grant, last_alert_button, make_service, say, two_stage_pack


@pytest.fixture
def service(database_url, clock, tmp_path):
    return make_service(database_url, two_stage_pack(), clock, tmp_path / "evidence")


def open_fr_case(service, reporter="alice"):
    say(service, reporter, "friend request", "1", "no", "instagram", "no", "no")


def test_case_actions_are_role_checked_idempotent_and_audited(service):
    grant(service, "dsl1", "dsl")
    grant(service, "slt1", "slt")
    open_fr_case(service)
    ack = last_alert_button(service, "dsl1", "Acknowledge")
    [refused] = service.press(ButtonPress("console", "slt1", cards.CASE_ACK, ack.value)).replies
    assert "Only the safeguarding (DSL) team" in refused.text
    [refused] = service.press(ButtonPress("console", "alice", cards.CASE_ACK, ack.value)).replies
    assert "Nothing has changed" in refused.text

    service.press(ButtonPress("console", "dsl1", cards.CASE_ACK, ack.value, name="Dee"))
    [twice] = service.press(ButtonPress("console", "dsl1", cards.CASE_ACK, ack.value)).replies
    assert "already acknowledged" in twice.text
    [picked] = service.intake.inbox("console", "alice")
    assert "picked up by Dee" in picked.text

    service.press(
        ButtonPress("console", "dsl1", cards.CASE_NOTE, ack.value, text="Spoke to the pupil")
    )
    [need] = service.press(
        ButtonPress("console", "dsl1", cards.CASE_CLOSE, ack.value, text="")
    ).replies
    assert "outcome" in need.text
    service.press(ButtonPress("console", "dsl1", cards.CASE_CLOSE, ack.value, text="Advice given"))
    [closed] = service.intake.inbox("console", "alice")
    assert "is now closed" in closed.text and "Advice given" not in closed.text

    alerts = service.intake.inbox("console", "dsl1")
    final = alerts[-1]
    assert final.buttons == () and "Closed by" in final.text
    assert "Spoke to the pupil" not in final.text  # notes stay out of the channel
    with service.kernel.session() as session:
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["case.opened", "case.acknowledged", "case.note", "case.closed"]


def test_staff_see_only_their_own_cases(service):
    grant(service, "dsl1", "dsl")
    open_fr_case(service, "alice")
    [mine] = service.receive(StaffMessage("console", "alice", "case FR-0001")).replies
    assert "FR-0001" in mine.text and "Who sent the request?" not in mine.text
    [other] = service.receive(StaffMessage("console", "bob", "case FR-0001")).replies
    assert "can't find a case FR-0001" in other.text
    [team] = service.receive(StaffMessage("console", "dsl1", "case FR-0001")).replies
    assert "Who sent the request? A pupil" in team.text
    [own_list] = service.receive(StaffMessage("console", "bob", "my cases")).replies
    assert "haven't reported anything" in own_list.text


def test_audit_trail_is_append_only(service):
    open_fr_case(service)
    import sqlalchemy as sa

    with service.kernel.session() as session, pytest.raises(sa.exc.DatabaseError):
        session.execute(sa.text("UPDATE audit_event SET actor = 'forged'"))
        session.commit()
    with service.kernel.session() as session, pytest.raises(sa.exc.DatabaseError):
        session.execute(sa.text("DELETE FROM audit_event"))
        session.commit()
