"""The after-ack queue: order per person, back-pressure instead of loss, a clean stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.dispatch import BotService
from bot.domain.turns import StaffMessage
from bot.intake.journal import IntakeJournal
from bot.intake.lines import IntakeQueue, IntakeRecord
from bot.storage.tables import IntakeRequest
from tests.helpers import make_service


async def test_one_persons_work_runs_in_order_while_another_person_goes_ahead():
    work = IntakeQueue("test", workers=2)
    alice, bob = "UALICE", "UBOB"
    slow_first = asyncio.Event()
    done: list[str] = []

    async def step(p: dict, _request: IntakeRecord) -> None:
        if p.get("slow"):
            await slow_first.wait()
        done.append(p["name"])

    work.handler("step", step)
    await work.start()
    await work.submit(alice, "step", {"name": "alice 1", "slow": True})
    await work.submit(alice, "step", {"name": "alice 2"})
    await work.submit(bob, "step", {"name": "bob 1"})
    for _ in range(20):  # let the workers run everything that can run
        await asyncio.sleep(0)
    assert done == ["bob 1"]  # alice's second message waits for her first
    slow_first.set()
    await work.stop()
    assert done == ["bob 1", "alice 1", "alice 2"]


async def test_a_full_queue_makes_the_ack_wait_rather_than_drop_work():
    work = IntakeQueue("test", workers=1, limit=1)
    release = asyncio.Event()
    done: list[int] = []

    async def job(p: dict, _request: IntakeRecord) -> None:
        await release.wait()
        done.append(p["n"])

    work.handler("job", job)
    await work.start()
    await work.submit("U1", "job", {"n": 1})  # taken by the worker, which waits
    await asyncio.sleep(0)
    await work.submit("U1", "job", {"n": 2})  # fills the queue
    third = asyncio.create_task(work.submit("U1", "job", {"n": 3}))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not third.done()  # back-pressure: this ack is held back
    release.set()
    await asyncio.wait_for(third, 5)
    await work.stop()
    assert done == [1, 2, 3]


async def test_stop_finishes_the_work_already_acknowledged():
    work = IntakeQueue("test", workers=3)
    done: list[int] = []

    async def job(p: dict, _request: IntakeRecord) -> None:
        await asyncio.sleep(0.01)
        done.append(p["n"])

    work.handler("job", job)
    await work.start()
    for n in range(30):
        await work.submit(f"U{n % 7}", "job", {"n": n})
    await work.stop()
    assert sorted(done) == list(range(30))
    assert work.pending == 0


async def test_stop_gives_up_after_its_timeout_and_says_how_much_was_left(caplog):
    work = IntakeQueue("test", workers=1)
    never = asyncio.Event()

    async def stuck(_: dict, _request: IntakeRecord) -> None:
        await never.wait()

    work.handler("stuck", stuck)
    await work.start()
    for _ in range(3):
        await work.submit("U1", "stuck", {})
    with caplog.at_level(logging.ERROR):
        await work.stop(timeout=0.05)
    assert "2 requests unhandled; they are lost" in caplog.text


async def test_a_failing_job_is_logged_without_its_text_and_the_worker_goes_on(caplog):
    work = IntakeQueue("test", workers=1)
    done: list[str] = []

    async def broken(p: dict, _request: IntakeRecord) -> None:
        raise ValueError(f"Report about {p['text']}")

    async def fine(_: dict, _request: IntakeRecord) -> None:
        done.append("ok")

    work.handler("broken", broken)
    work.handler("fine", fine)
    await work.start()
    with caplog.at_level(logging.ERROR):
        await work.submit("U1", "broken", {"text": "Jane Pupil"})
        await work.submit("U1", "fine", {})
        await work.stop()
    assert done == ["ok"]
    assert "broken failed: ValueError" in caplog.text
    assert "Jane" not in caplog.text


async def test_urgent_work_does_not_wait_behind_the_queue():
    work = IntakeQueue("test", workers=1)
    release = asyncio.Event()
    done: list[str] = []

    async def queued(_: dict, _request: IntakeRecord) -> None:
        await release.wait()
        done.append("queued")

    async def urgent() -> None:
        done.append("urgent")

    work.handler("queued", queued)
    await work.start()
    await work.submit("U1", "queued", {})
    work.urgent(urgent)
    for _ in range(20):
        await asyncio.sleep(0)
    assert done == ["urgent"]
    release.set()
    await work.stop()
    assert done == ["urgent", "queued"]


@pytest.mark.parametrize("workers", [1, 4])
async def test_work_submitted_before_start_runs_at_once(workers):
    """A handler driven without the server's start-up still does its work."""
    work = IntakeQueue("test", workers=workers)
    done: list[int] = []

    async def job(_: dict, _request: IntakeRecord) -> None:
        done.append(1)

    work.handler("job", job)
    await work.submit("U1", "job", {})
    assert done == [1]


# --- with the journal: what was acknowledged survives a crash ------------------------------


def recorded(service: BotService) -> list[IntakeRequest]:
    with service.kernel.session() as session:
        return list(session.exec(select(IntakeRequest)).all())


async def test_a_finished_request_leaves_no_record(database_url, clock, tmp_path):
    service = make_service(database_url, "default", clock, tmp_path)
    work = IntakeQueue("test", journal=IntakeJournal(service.intake, "slack"))
    seen: list[dict] = []

    async def job(p: dict, _request: IntakeRecord) -> None:
        assert [r.payload for r in recorded(service)] == [p]  # written before it ran
        seen.append(p)

    work.handler("job", job)
    await work.start()
    await work.submit("U1", "job", {"text": "hello"})
    await work.stop()
    assert seen == [{"text": "hello"}]
    assert recorded(service) == []
    service.engine.dispose()


async def test_requests_left_by_a_crashed_instance_are_run_again_in_order(
    database_url, clock, tmp_path
):
    first = make_service(database_url, "default", clock, tmp_path)
    crashed = IntakeQueue("test", journal=IntakeJournal(first.intake, "slack"))
    never = asyncio.Event()

    async def hangs(_: dict, _request: IntakeRecord) -> None:
        await never.wait()

    crashed.handler("job", hangs)
    await crashed.start()
    for n in range(3):
        await crashed.submit("U1", "job", {"n": n})
    await crashed.stop(timeout=0)  # like a crash: nothing finished, every row is still there
    assert [r.payload["n"] for r in recorded(first)] == [0, 1, 2]

    second = make_service(database_url, "default", clock, tmp_path)  # a new instance
    again = IntakeQueue("test", journal=IntakeJournal(second.intake, "slack"))
    done: list[int] = []

    async def job(p: dict, _request: IntakeRecord) -> None:
        done.append(p["n"])

    again.handler("job", job)
    await again.start(recover_every=3600)
    if second.engine.dialect.name == "postgresql":  # the first might still be alive
        assert await again.recover_once() == 0
        clock.advance(seconds=second.intake.lease.total_seconds() + 1)
        assert await again.recover_once() == 3
    # On SQLite, where only one instance can run, start() took them all at once.
    assert await again.recover_once() == 0  # taken once
    await again.stop()
    assert done == [0, 1, 2]
    assert recorded(second) == []
    first.engine.dispose()
    second.engine.dispose()


async def test_a_live_instance_keeps_its_requests_by_renewing_them(database_url, clock, tmp_path):
    owner = make_service(database_url, "default", clock, tmp_path)
    other = make_service(database_url, "default", clock, tmp_path)
    owner.intake.lease = other.intake.lease = timedelta(seconds=0.2)  # renewed every 50 ms
    journal = IntakeJournal(owner.intake, "slack")
    await journal.start()
    await journal.record("U1", "job", {}).future
    clock.advance(seconds=1)  # by the clock the row is past its lease, unless renewed
    for _ in range(200):  # the writer renews on its own timer (real time)
        if recorded(owner)[0].renewed_at == clock():
            break
        await asyncio.sleep(0.01)
    assert await IntakeJournal(other.intake, "slack").orphans() == []
    await journal.stop()
    owner.engine.dispose()
    other.engine.dispose()


async def test_with_the_database_down_the_request_is_still_handled(tmp_path, clock, caplog):
    service = make_service(
        f"sqlite:///{tmp_path / 'missing' / 'no.db'}", "default", clock, tmp_path
    )
    work = IntakeQueue("test", journal=IntakeJournal(service.intake, "slack"))
    done: list[str] = []

    async def job(p: dict, _request: IntakeRecord) -> None:
        done.append(p["text"])

    work.handler("job", job)
    await work.start()
    with caplog.at_level(logging.WARNING):
        await work.submit("U1", "job", {"text": "hello"})
        await work.stop()
    assert done == ["hello"]
    assert "request not recorded (database unavailable)" in caplog.text


def test_a_rerun_message_is_not_taken_as_an_answer_once_the_conversation_moved_on(
    service_factory, clock
):
    service = service_factory()
    sent = clock()
    clock.advance(minutes=3)  # meanwhile another instance answered their newer messages
    first = service.receive(StaffMessage("slack", "U1", "friend request")).replies
    late = service.receive(
        StaffMessage("slack", "U1", "1", sent_at=sent, request_id="slack:EvOld")
    ).replies
    assert "moved on" in late[0].text and "please send it again" in late[0].text
    assert first[-1].text.endswith("Who sent the request?")
    assert service.greet("slack", "U1", "")[0].text == "Who sent the request?"  # not answered
    # A rerun whose conversation has not moved on is an ordinary turn.
    fresh = service.receive(StaffMessage("slack", "U2", "friend request", sent_at=sent)).replies
    assert [m.text for m in fresh] == [m.text for m in first]
