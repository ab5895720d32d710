"""The yearly reminder to re-read the social media policy, in the pack's month."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.storage.tables import Reminder
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
