"""The reminder sweep: instances sweeping one database at the same moment take each
reminder once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import select

from bot.storage.tables import Outbox
from tests.helpers import add_account, log_comment, make_service


def test_sweeps_on_two_connections_take_each_reminder_once(database_url, clock, tmp_path):
    """Two instances sweeping the same database at the same moment (PostgreSQL and SQLite)."""
    first = make_service(database_url, "default", clock, tmp_path / "e1")
    second = make_service(database_url, "default", clock, tmp_path / "e2")
    add_account(first)
    for n in range(40):
        log_comment(first, text=f"comment {n}")
    clock.advance(days=1, hours=22)  # Monday 13:00: every nudge is due
    first.reminders.batch = second.reminders.batch = 7
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def run(service):
        barrier.wait()
        total = 0
        while done := service.sweep():
            total += done
        counts.append(total)

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 40
    with first.kernel.session() as session:
        nudges = session.exec(
            select(Outbox).where(
                Outbox.target == "mo1", Outbox.created_at > clock() - timedelta(seconds=1)
            )
        ).all()
    assert len(nudges) == 40  # one nudge per comment for this moderator, none twice
