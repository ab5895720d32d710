"""The yearly reminder to re-read the social media policy, in the pack's month."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.domain.turns import ButtonPress
from bot.storage.tables import PolicyRead, Reminder
from tests.helpers import grant


def test_annual_policy_reminder(service_factory, clock):
    service = service_factory("default")  # annual_reminder_month = 9
    grant(service, "t1", "slt")
    service.prepare_schedules()
    service.prepare_schedules()  # idempotent
    with service.kernel.session() as session:
        [reminder] = session.exec(select(Reminder).where(Reminder.kind == "annual"))
    # 1 September 2027 is a Wednesday: the start of that day, BST.
    assert reminder.due_at == datetime(2027, 9, 1, 7, 0, tzinfo=UTC)
    clock.current = datetime(2027, 9, 1, 7, 0, tzinfo=UTC)
    assert service.sweep() == 1
    [reminder_dm] = service.intake.inbox("console", "t1")
    assert "re-read the social media policy" in reminder_dm.text
    with service.kernel.session() as session:
        keys = {r.key for r in session.exec(select(Reminder).where(Reminder.kind == "annual"))}
    assert keys == {"annual:2027", "annual:2028"}


@pytest.mark.issue(24, 7)
def test_ive_read_it_on_the_yearly_reminder_records_who_confirmed_and_when(service_factory, clock):
    service = service_factory("default")
    grant(service, "t1", "slt")
    grant(service, "t2", "dsl")
    service.prepare_schedules()
    clock.current = datetime(2027, 9, 1, 7, 0, tzinfo=UTC)
    assert service.sweep() == 1
    [reminder_dm] = service.intake.inbox("console", "t1")
    [button] = reminder_dm.buttons
    assert (button.label, button.value) == ("I've read it", "annual-2027")
    clock.current = datetime(2027, 9, 2, 16, 30, tzinfo=UTC)
    [thanks] = service.press(ButtonPress("console", "t1", button.action, button.value)).replies
    assert "recorded that you have read the policy for 2027" in thanks.text
    clock.current = datetime(2027, 9, 3, 9, 0, tzinfo=UTC)
    [again] = service.press(ButtonPress("console", "t1", button.action, button.value)).replies
    assert "already confirmed you'd read the policy on 2 September 2027" in again.text
    [forged] = service.press(ButtonPress("console", "t2", button.action, "annual-20x7")).replies
    assert "Nothing has changed" in forged.text
    with service.kernel.session() as session:
        rows = session.exec(select(PolicyRead)).all()
    assert [(r.platform, r.user_id, r.year, r.confirmed_at) for r in rows] == [
        ("console", "t1", 2027, datetime(2027, 9, 2, 16, 30, tzinfo=UTC))
    ]
