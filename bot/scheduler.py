"""The scheduler tick: APScheduler runs the reminder sweep in every instance.

Several instances may tick at once; the sweep's claims keep them from doing the same
reminder twice. The daily retention sweep is asked for every DAILY_CHECK_TICKS ticks in
every instance and runs once a school day across them all (bot/dispatch/daily_jobs.py).
A tick that finds the database down logs it and the next one tries again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.dispatch import BotService, Trust
from bot.dispatch.daily_jobs import RETENTION, Ran
from bot.observability import metrics

log = logging.getLogger(__name__)
# APScheduler logs "Running job ..." and "... executed successfully" at INFO on every tick
# (every 30 s); its warnings and errors (a job missed or failed) still show.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

SCHEDULER_KEY = web.AppKey("scheduler", AsyncIOScheduler)

MAX_SWEEPS_PER_TICK = 100
DAILY_CHECK_TICKS = 10  # every 5 minutes by default: soon after midnight, or after a kill


async def tick(service: BotService) -> int:
    """Sweep until a sweep comes back short of a full batch (a backlog drains in one tick)."""
    total = 0
    try:
        with metrics.reminder_sweep():
            for _ in range(MAX_SWEEPS_PER_TICK):
                done = await asyncio.to_thread(service.sweep)
                total += done
                metrics.reminders_finished(done)
                if done < service.reminders.batch:
                    break
    except sa.exc.SQLAlchemyError as exc:
        log.error("scheduler tick stopped, database problem: %s", type(exc).__name__)
    except asyncio.CancelledError:
        # The bot is stopping (APScheduler cancels a running job at shutdown). The sweep
        # under way finishes in its thread before the process exits; the rest waits for
        # the next start. Ending quietly here keeps a normal stop free of tracebacks.
        log.info("scheduler tick stopped: the bot is shutting down")
    return total


async def retention_tick(service: BotService) -> Ran | None:
    """The retention sweep (bot/records/retention.py), once a school day across instances."""
    from bot.records.retention import RetentionSweep

    today = service.kernel.local_now().date().isoformat()
    sweep = RetentionSweep(service.kernel).sweep
    try:
        return await asyncio.to_thread(service.daily_jobs.run, RETENTION, today, sweep)
    except sa.exc.SQLAlchemyError as exc:
        metrics.retention_swept({}, ok=False)
        log.error("retention sweep stopped, database problem: %s", type(exc).__name__)
    except asyncio.CancelledError:
        log.info("retention sweep stopped: the bot is shutting down")
    return None


async def unused_files_tick(service: BotService) -> int:
    """Hourly: evidence files nothing uses any more (a cancelled or abandoned report's)."""
    from bot.records.evidence_files import sweep_unused

    try:
        return await asyncio.to_thread(sweep_unused, service.kernel)
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        log.error("evidence sweep stopped: %s", type(exc).__name__)
    except asyncio.CancelledError:
        log.info("evidence sweep stopped: the bot is shutting down")
    return 0


async def trust_tick(trust: Trust) -> int:
    """One tick for every school: first pick up any school added since the last one (its
    schedules prepared), then each school's sweeps in its own school session."""
    await _refresh(trust)
    total = 0
    for service in trust.services:
        total += await tick(service)
    return total


async def trust_retention_tick(trust: Trust) -> None:
    """Each school's retention sweep, once a school day each (claimed per school)."""
    for service in trust.services:
        await retention_tick(service)


async def trust_housekeeping(trust: Trust) -> None:
    for service in trust.services:
        await asyncio.to_thread(service.intake.forget_old_requests)


async def _refresh(trust: Trust) -> None:
    try:
        await asyncio.to_thread(trust.refresh)
    except sa.exc.SQLAlchemyError as exc:
        log.error("couldn't look for new schools: %s", type(exc).__name__)


def _prepare(service: BotService) -> None:
    try:
        service.prepare_schedules()
    except sa.exc.SQLAlchemyError as exc:
        log.error("couldn't schedule the yearly reminder yet: %s", type(exc).__name__)


def mount(app: web.Application, served: BotService | Trust, seconds: float) -> None:
    trust = served if isinstance(served, Trust) else Trust.of(served)
    scheduler = AsyncIOScheduler(timezone=UTC)
    app[SCHEDULER_KEY] = scheduler
    trust.added_hooks.append(_prepare)  # a school added while running: its reminders too

    async def lifecycle(_app: web.Application):
        for service in trust.services:
            await asyncio.to_thread(_prepare, service)
        scheduler.add_job(
            trust_tick,
            IntervalTrigger(seconds=seconds),
            args=[trust],
            id="sweep",
            next_run_time=datetime.now(UTC),
            max_instances=1,  # a slow sweep is never overlapped by the next
            coalesce=True,  # after a pause, one catch-up run rather than a burst
            misfire_grace_time=None,
        )
        scheduler.add_job(
            trust_retention_tick,
            IntervalTrigger(seconds=seconds * DAILY_CHECK_TICKS),
            args=[trust],
            id="retention",
            next_run_time=datetime.now(UTC),
            # A check while this instance's sweep is still going returns at once
            # (Ran.RUNNING_HERE) rather than APScheduler warning that it skipped one.
            max_instances=2,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            trust_housekeeping,
            IntervalTrigger(hours=1),
            args=[trust],
            id="housekeeping",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        # Trust-wide already: the evidence store is the install's, swept in the trust scope.
        scheduler.add_job(
            unused_files_tick,
            IntervalTrigger(hours=1),
            args=[trust.first],
            id="unused-files",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        yield
        scheduler.shutdown(wait=False)

    app.cleanup_ctx.append(lifecycle)
