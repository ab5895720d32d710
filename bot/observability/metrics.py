"""The bot's Prometheus metrics, served on /metrics (bot/web/metrics.py) behind a token.

Every label comes from a fixed, small vocabulary written here: a value from outside it is
counted as "other". So no label can ever carry a person, a case reference or words anyone
wrote, whatever a caller passes. No project imports: every layer, storage included, may
record here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER = "other"
PLATFORMS = ("console", "slack", "teams", "web", "webhook", "email")
PRIORITIES = ("urgent", "normal", "nudge", "bulk")  # domain.messages.Priority, in order
ESCALATION_LEVELS = ("mention", "deputy", "email_leads", "email_head")  # domain.escalation
TURN_KINDS = ("message", "press")
TURN_OUTCOMES = ("done", "repeat", "stale", "unsaved", "error")
REQUEST_OUTCOMES = ("ok", "refused", "error")
SEND_RESULTS = ("sent", "rate_limited", "retried", "failed", "error", "skipped")
RECORD_TYPES = ("case", "register_entry", "comment", "conversation")
SWEEP_RESULTS = ("ok", "failed")
DAILY_JOBS = ("retention", "yearly_reminder")  # bot/storage/daily_runs.py
DAILY_JOB_OUTCOMES = ("ran", "took_over", "held_elsewhere", "done_already", "failed")
DB_ERROR_KINDS = ("operational", "interface", "integrity", "programming")

disable_created_metrics()  # no *_created series: twice the lines for nothing we use
# Our own registry, not the library's global one: only what is declared here is served.
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

REQUESTS = Counter(
    "schoolbot_requests",
    "Requests to a door (Slack, Teams, the webhook, the workspace), by outcome: ok, "
    "refused (4xx: a bad signature, too large) or error (5xx).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
TURNS = Counter(
    "schoolbot_turns",
    "Conversation turns (a message, or a record button pressed), by how they ended.",
    ["platform", "kind", "outcome"],
    registry=REGISTRY,
)
TURN_SECONDS = Histogram(
    "schoolbot_turn_seconds",
    "How long one turn took, database included, replies not yet sent.",
    ["platform", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "schoolbot_outbox_depth",
    "Messages waiting to be sent, per platform (read from the database at each scrape).",
    ["platform"],
    registry=REGISTRY,
)
OUTBOX_OLDEST = Gauge(
    "schoolbot_outbox_oldest_age_seconds",
    "Age of the oldest message waiting to be sent, per platform (0 when none waits).",
    ["platform"],
    registry=REGISTRY,
)
OUTBOX_FAILED = Gauge(
    "schoolbot_outbox_failed",
    "Messages given up on after every retry, parked for an admin, per platform.",
    ["platform"],
    registry=REGISTRY,
)
OUTBOX_WAITING = Gauge(
    "schoolbot_outbox_waiting",
    "Messages waiting to be sent, per platform and priority (urgent, normal, nudge, bulk): "
    "urgent ones are sent first, so a deep bulk queue should not hold them up.",
    ["platform", "priority"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "schoolbot_escalations",
    "Levels of the escalation ladder that fired for an unacknowledged alert.",
    ["level"],
    registry=REGISTRY,
)
SENDS = Counter(
    "schoolbot_sends",
    "Messages posted to a platform, by result: sent, rate_limited (a 429), retried (another "
    "error; it stays queued), failed (given up), error (a direct reply that failed and went "
    "to the outbox), skipped (an email no longer needed: its case was acknowledged).",
    ["platform", "result"],
    registry=REGISTRY,
)
URGENT_UNACKNOWLEDGED = Gauge(
    "schoolbot_urgent_unacknowledged",
    "Open urgent cases nobody has acknowledged yet.",
    registry=REGISTRY,
)
URGENT_OLDEST = Gauge(
    "schoolbot_urgent_unacknowledged_oldest_age_seconds",
    "Age of the oldest unacknowledged urgent case (0 when there is none).",
    registry=REGISTRY,
)
DATABASE_UP = Gauge(
    "schoolbot_database_up",
    "1 when the last scrape could read the figures above from the database, else 0.",
    registry=REGISTRY,
)
REMINDER_SWEEP_SECONDS = Histogram(
    "schoolbot_reminder_sweep_seconds",
    "How long one scheduler tick's reminder sweeps took.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
REMINDERS_FINISHED = Counter(
    "schoolbot_reminders_finished",
    "Reminders the sweeps finished (sent, folded or closed).",
    registry=REGISTRY,
)
RETENTION_SWEEPS = Counter(
    "schoolbot_retention_sweeps",
    "Retention sweeps run, by result (failed: it stopped on a database problem).",
    ["result"],
    registry=REGISTRY,
)
RETENTION_DISPOSED = Counter(
    "schoolbot_retention_disposed",
    "Records the retention sweeps disposed of, by record type.",
    ["record_type"],
    registry=REGISTRY,
)
RETENTION_LAST = Gauge(
    "schoolbot_retention_last_sweep_timestamp_seconds",
    "When this instance last finished a retention sweep (Unix time).",
    registry=REGISTRY,
)
DAILY_JOB_CHECKS = Counter(
    "schoolbot_daily_jobs",
    "Checks of a once-a-day job by this instance: ran, took_over (finished a run an instance "
    "that stopped had begun), held_elsewhere (another instance is running it), done_already "
    "or failed.",
    ["job", "outcome"],
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "schoolbot_database_errors",
    "Errors the database driver raised, by kind. integrity includes ordinary races (two "
    "clicks at once); operational and interface mean the database is down or locked.",
    ["kind"],
    registry=REGISTRY,
)


def known(value: str | None, vocabulary: tuple[str, ...]) -> str:
    """`value` if it is in the vocabulary, else "other": the only way labels are set."""
    return value if value in vocabulary else OTHER


def platform_label(name: str | None) -> str:
    return known(name, PLATFORMS)


def request_done(platform: str | None, status: int) -> None:
    outcome = "ok" if status < 400 else "refused" if status < 500 else "error"
    REQUESTS.labels(platform_label(platform), outcome).inc()


@dataclass
class Turn:
    """What `timed_turn` records: set `outcome` from the turn's result before it ends."""

    platform: str
    kind: str
    outcome: str = "error"


@contextlib.contextmanager
def timed_turn(platform: str, kind: str) -> Iterator[Turn]:
    """Time one turn and count it by outcome ("error" if it raised)."""
    turn = Turn(platform_label(platform), known(kind, TURN_KINDS))
    started = time.perf_counter()
    try:
        yield turn
    finally:
        TURN_SECONDS.labels(turn.platform, turn.kind).observe(time.perf_counter() - started)
        TURNS.labels(turn.platform, turn.kind, known(turn.outcome, TURN_OUTCOMES)).inc()


def send_result(platform: str, result: str) -> None:
    SENDS.labels(platform_label(platform), known(result, SEND_RESULTS)).inc()


def database_error(kind: str) -> None:
    DATABASE_ERRORS.labels(known(kind, DB_ERROR_KINDS)).inc()


@contextlib.contextmanager
def reminder_sweep() -> Iterator[None]:
    with REMINDER_SWEEP_SECONDS.time():
        yield


def escalated(level: str) -> None:
    ESCALATIONS.labels(known(level, ESCALATION_LEVELS)).inc()


def reminders_finished(count: int) -> None:
    REMINDERS_FINISHED.inc(count)


def daily_job(job: str, outcome: str) -> None:
    """An instance's check of a once-a-day job: whether it ran it, or why not."""
    DAILY_JOB_CHECKS.labels(
        known(job.replace("-", "_"), DAILY_JOBS), known(outcome, DAILY_JOB_OUTCOMES)
    ).inc()


def retention_swept(disposed: Mapping[str, int], *, ok: bool) -> None:
    """One retention sweep's result: how many records of each type it disposed of."""
    RETENTION_SWEEPS.labels("ok" if ok else "failed").inc()
    for record_type, count in disposed.items():
        label = known(record_type.replace(" ", "_"), RECORD_TYPES)
        RETENTION_DISPOSED.labels(label).inc(count)
    if ok:
        RETENTION_LAST.set_to_current_time()


@dataclass(frozen=True)
class State:
    """Figures read from the database at a scrape: per platform (depth, oldest age in
    seconds, failed), and the unacknowledged urgent cases (count, oldest age)."""

    outbox: Mapping[str, tuple[int, float, int]] = field(default_factory=dict)
    urgent: int = 0
    urgent_oldest: float = 0.0
    # (platform, priority number): messages waiting
    waiting: Mapping[tuple[str, int], int] = field(default_factory=dict)


def combined(states: list[State]) -> State:
    """Several schools' figures as one install's: depths and counts added, oldest ages the
    oldest of any school."""
    outbox: dict[str, tuple[int, float, int]] = {}
    waiting: dict[tuple[str, int], int] = {}
    for state in states:
        for platform, (depth, oldest, failed) in state.outbox.items():
            was = outbox.get(platform, (0, 0.0, 0))
            outbox[platform] = (was[0] + depth, max(was[1], oldest), was[2] + failed)
        for key, count in state.waiting.items():
            waiting[key] = waiting.get(key, 0) + count
    return State(
        outbox,
        sum(state.urgent for state in states),
        max((state.urgent_oldest for state in states), default=0.0),
        waiting,
    )


def record_state(state: State | None) -> None:
    """Set the scrape-time gauges; None: the database could not be read (last values stay)."""
    if state is None:
        DATABASE_UP.set(0)
        return
    DATABASE_UP.set(1)
    totals: dict[str, list[float]] = {p: [0, 0.0, 0] for p in (*PLATFORMS, OTHER)}
    for platform, (depth, oldest, failed) in state.outbox.items():
        row = totals[platform_label(platform)]
        row[0] += depth
        row[1] = max(row[1], oldest)
        row[2] += failed
    for platform, (waiting, age, parked) in totals.items():
        OUTBOX_DEPTH.labels(platform).set(waiting)
        OUTBOX_OLDEST.labels(platform).set(age)
        OUTBOX_FAILED.labels(platform).set(parked)
    by_priority = {(p, q): 0 for p in (*PLATFORMS, OTHER) for q in PRIORITIES}
    for (platform, number), count in state.waiting.items():
        name = PRIORITIES[number] if 0 <= number < len(PRIORITIES) else "normal"
        by_priority[(platform_label(platform), name)] += count
    for (platform, name), count in by_priority.items():
        OUTBOX_WAITING.labels(platform, name).set(count)
    URGENT_UNACKNOWLEDGED.set(state.urgent)
    URGENT_OLDEST.set(state.urgent_oldest)


def exposition() -> bytes:
    """Everything above in Prometheus' text format."""
    return generate_latest(REGISTRY)
