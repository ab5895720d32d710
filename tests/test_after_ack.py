"""The after-ack queue: order per person, back-pressure instead of loss, a clean stop."""

from __future__ import annotations

import asyncio
import logging
import zlib

import pytest

from bot.channels.after_ack import AfterAck


def people_on_different_workers(workers: int) -> tuple[str, str]:
    """Two user ids that the queue gives to different workers."""
    names = [f"U{i}" for i in range(50)]
    first = names[0]
    other = next(
        n for n in names if zlib.crc32(n.encode()) % workers != zlib.crc32(first.encode()) % workers
    )
    return first, other


async def test_one_persons_work_runs_in_order_while_another_person_goes_ahead():
    work = AfterAck("test", workers=2)
    work.start()
    alice, bob = people_on_different_workers(2)
    slow_first = asyncio.Event()
    done: list[str] = []

    async def step(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()
        done.append(name)

    await work.submit(alice, step, "alice 1", slow_first)
    await work.submit(alice, step, "alice 2")
    await work.submit(bob, step, "bob 1")
    for _ in range(20):  # let the workers run everything that can run
        await asyncio.sleep(0)
    assert done == ["bob 1"]  # alice's second message waits for her first
    slow_first.set()
    await work.stop()
    assert done == ["bob 1", "alice 1", "alice 2"]


async def test_a_full_queue_makes_the_ack_wait_rather_than_drop_work():
    work = AfterAck("test", workers=1, queue_limit=1)
    work.start()
    release = asyncio.Event()
    done: list[int] = []

    async def job(n: int) -> None:
        await release.wait()
        done.append(n)

    await work.submit("U1", job, 1)  # taken by the worker, which waits
    await asyncio.sleep(0)
    await work.submit("U1", job, 2)  # fills the queue
    third = asyncio.create_task(work.submit("U1", job, 3))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not third.done()  # back-pressure: this ack is held back
    release.set()
    await asyncio.wait_for(third, 5)
    await work.stop()
    assert done == [1, 2, 3]


async def test_stop_finishes_the_work_already_acknowledged():
    work = AfterAck("test", workers=3)
    work.start()
    done: list[int] = []

    async def job(n: int) -> None:
        await asyncio.sleep(0.01)
        done.append(n)

    for n in range(30):
        await work.submit(f"U{n % 7}", job, n)
    await work.stop()
    assert sorted(done) == list(range(30))
    assert work.pending == 0


async def test_stop_gives_up_after_its_timeout_and_says_how_much_was_left(caplog):
    work = AfterAck("test", workers=1)
    work.start()
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()

    for _ in range(3):
        await work.submit("U1", stuck)
    with caplog.at_level(logging.ERROR):
        await work.stop(timeout=0.05)
    assert "2 acknowledged requests unhandled" in caplog.text


async def test_a_failing_job_is_logged_without_its_text_and_the_worker_goes_on(caplog):
    work = AfterAck("test", workers=1)
    work.start()
    done: list[str] = []

    async def broken() -> None:
        raise ValueError("Report about Jane Pupil")

    async def fine() -> None:
        done.append("ok")

    with caplog.at_level(logging.ERROR):
        await work.submit("U1", broken)
        await work.submit("U1", fine)
        await work.stop()
    assert done == ["ok"]
    assert "broken failed: ValueError" in caplog.text
    assert "Jane" not in caplog.text


async def test_urgent_work_does_not_wait_behind_the_queue():
    work = AfterAck("test", workers=1)
    work.start()
    release = asyncio.Event()
    done: list[str] = []

    async def queued() -> None:
        await release.wait()
        done.append("queued")

    async def urgent() -> None:
        done.append("urgent")

    await work.submit("U1", queued)
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
    work = AfterAck("test", workers=workers)
    done: list[int] = []

    async def job() -> None:
        done.append(1)

    await work.submit("U1", job)
    assert done == [1]
