"""Reminder-sweep benchmark: tick time with 10k, 100k and 1M stored comments, 1k due.

Per backend (SQLite in a temp dir; PostgreSQL in a scratch database, dropped at the end)
and size N: a fresh migrated database, one official account with two contacts, N comments
with all 3 reminders each (3N rows), bulk-inserted in 10k chunks (executemany / COPY):
odd ids are replied (nudge 'done', deadline and escalate 'cancelled'); of the awaiting
half, exactly 1,000 have their nudge due now and one batch more fell due a day ago (the
warm-up set); every other reminder is pending and due within the week. PostgreSQL then
gets VACUUM ANALYZE and a CHECKPOINT after the bulk load; SQLite nothing, as in use.

The service has a fixed clock. Warm-up: one tick at NOW - 12h takes the warm-up set
through the whole path (claim, cards, outbox rows, done); those comments are then closed.
Timed (perf_counter): ticks at NOW until the 1,000 are done, `--rounds` times (they are
set pending again in between, leaving dead row versions on PostgreSQL as churn does).
Columns: ticks per round, first tick, mean/p50/max over all ticks, total per round, per
swept item, and the median of 5 idle ticks (nothing due: the claim query and commit).
Targets (issue): every tick at 1M within 50 ms (the max tick), and the mean tick at 1M at
most 2x the mean tick at 10k (the largest size run against the smallest).

Run from the repo root:  .venv/bin/python bench/sweep_bench.py  (see --help)
PostgreSQL: TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Seeding dominates: the defaults take about 5 minutes on 2 cores (1M: ~100 s of seeding
per backend); `--sizes 10000,100000` about 1 minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.dispatch.service import BotService  # noqa: E402
from bot.domain.policy import load_pack  # noqa: E402
from bot.kernel.evidence_folder import FolderEvidenceStore  # noqa: E402
from bot.storage import db  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday afternoon
WARM = NOW - timedelta(hours=12)
DUE, CHUNK, IDLE_TICKS = 1_000, 10_000, 5
TICK_TARGET_MS, RATIO_TARGET = 50.0, 2.0
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DATETIME on SQLite
COLUMNS = {
    "comment": ("id", "account_id", "author_type", "text", "received_at", "due_at",
                "offensive", "complaint", "source", "logged_by", "platform", "external_id",
                "status", "closed_at", "closed_by"),
    "reminder": ("id", "key", "kind", "due_at", "status", "comment_id", "done_at", "outcome"),
}  # fmt: skip
Rows = list[list[tuple[Any, ...]]]


@dataclass
class Result:
    backend: str
    stored: int
    batch: int
    ticks: list[float]  # ms, every tick of every round
    rounds: int
    idle_ms: float
    seed_s: float

    @property
    def mean(self) -> float:
        return statistics.fmean(self.ticks)


def rows(n: int, warm: int, ts: Callable[[datetime], str]) -> Iterator[Rows]:
    """Chunks of [comment rows, reminder rows] for ids 1..n; times as text, made by `ts`."""
    awaiting = n // 2
    if awaiting < DUE + warm:
        raise SystemExit(f"{n} comments are too few for {DUE} due + {warm} warm-up")
    step = awaiting // (DUE + warm)
    chunk: Rows = [[], []]
    for i in range(1, n + 1):
        spread = timedelta(seconds=(i * 7919) % (7 * 86400))
        j, replied = i // 2 - 1, bool(i % 2)
        k = j // step if not replied and j % step == 0 else DUE + warm
        if replied:  # a day ago or more, after its nudge
            nudge = NOW - timedelta(days=1) - 4 * spread
        elif k < DUE:  # due now
            nudge = NOW - timedelta(minutes=1 + k % 120)
        elif k < DUE + warm:  # due at the warm-up tick
            nudge = WARM - timedelta(hours=1, minutes=k % 60)
        else:  # due later this week
            nudge = NOW + timedelta(minutes=1) + spread
        due = nudge + timedelta(hours=4)
        received = min(due - timedelta(hours=24), NOW - timedelta(minutes=5))
        closed = ts(nudge + timedelta(hours=1)) if replied else None
        chunk[0].append(
            (i, 1, "parent", f"Bench comment {i}: when is the next open evening?", ts(received),
             ts(due), False, False, "webhook", "bench", "slack", f"bench-{i}",
             "replied" if replied else "awaiting", closed, "slack:U1" if replied else None)
        )  # fmt: skip
        chunk[1] += [
            (3 * i - 2, f"comment:{i}:nudge", "comment.nudge", ts(nudge),
             "done" if replied else "pending", i, ts(nudge) if replied else None,
             "nudge: told 2 moderator(s)" if replied else None),
            (3 * i - 1, f"comment:{i}:deadline", "comment.deadline", ts(due),
             "cancelled" if replied else "pending", i, closed, None),
            (3 * i, f"comment:{i}:escalate", "comment.escalate", ts(due + timedelta(hours=1)),
             "cancelled" if replied else "pending", i, closed, None),
        ]  # fmt: skip
        if len(chunk[0]) == CHUNK or i == n:
            yield chunk
            chunk = [[], []]


def seed(url: str, n: int, warm: int) -> None:
    """Bulk insert in one transaction, without foreign-key checks (the rows are consistent)."""
    postgres = url.startswith("postgresql")
    engine = sa.create_engine(url)  # not make_engine: SQLite checks no foreign keys here
    if not postgres:
        stored = sa.DateTime().dialect_impl(engine.dialect).bind_processor(engine.dialect)
        assert stored and stored(NOW.replace(tzinfo=None)) == NOW.strftime(SQLITE_TIME)
    ts = datetime.isoformat if postgres else (lambda d: d.strftime(SQLITE_TIME))
    account = {
        "name": "Bench School Facebook", "purpose": "news", "platform": "facebook",
        "author": "Head", "approved_on": NOW - timedelta(days=400), "status": "open",
        "moderators": ["A", "B"], "contacts": ["slack:U1", "slack:U2"],
    }  # fmt: skip
    try:
        with engine.begin() as conn:
            conn.execute(SQLModel.metadata.tables["official_account"].insert(), account)
            conn.exec_driver_sql(  # no FK triggers; SQLite: a 256 MB cache for the indexes
                "SET LOCAL session_replication_role = replica"
                if postgres
                else "PRAGMA cache_size = -262144"
            )
            for chunk in rows(n, warm, ts):
                for (table, cols), data in zip(COLUMNS.items(), chunk, strict=True):
                    names = ", ".join(cols)
                    if not postgres:
                        marks = ", ".join("?" * len(cols))
                        conn.exec_driver_sql(
                            f"INSERT INTO {table} ({names}) VALUES ({marks})", data
                        )
                        continue
                    raw: Any = conn.connection.driver_connection
                    with (
                        raw.cursor() as cur,
                        cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
                    ):
                        for row in data:
                            copy.write_row(row)
            if postgres:  # ids were given: move the sequences past them
                for table, last in zip(COLUMNS, (n, 3 * n), strict=True):
                    conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', {last})")
        if postgres:  # what autovacuum would do, then flush it all so no timed tick pays
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
                conn.exec_driver_sql("CHECKPOINT")
    finally:
        engine.dispose()


def tick(service: BotService) -> tuple[int, float]:
    start = time.perf_counter()
    done = service.sweep()
    return done, (time.perf_counter() - start) * 1000


def measure(url: str, backend: str, n: int, batch: int | None, rounds: int, tmp: Path) -> Result:
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        pack, evidence = load_pack("default"), FolderEvidenceStore(tmp / "evidence")
        warmup = BotService(engine, pack, evidence, clock=lambda: WARM)
        service = BotService(engine, pack, evidence, clock=lambda: NOW)
        batch = batch or service.reminders.batch
        warmup.reminders.batch = service.reminders.batch = batch
        started = time.perf_counter()
        seed(url, n, batch)
        seed_s = time.perf_counter() - started
        taken, _ = tick(warmup)
        assert taken == batch, f"warm-up took {taken}, expected {batch}"
        comment, reminder = (SQLModel.metadata.tables[t] for t in COLUMNS)
        with engine.begin() as conn:  # the moderators reply to the warm-up comments
            ids = sa.select(reminder.c.comment_id).where(reminder.c.done_at == WARM)
            conn.execute(
                reminder.update()
                .where(reminder.c.status == "pending", reminder.c.comment_id.in_(ids))
                .values(status="cancelled", done_at=WARM)
            )
            conn.execute(comment.update().where(comment.c.id.in_(ids)).values(status="replied"))
        again = (  # the same 1k fall due again
            reminder.update()
            .where(reminder.c.done_at == NOW)
            .values(status="pending", done_at=None, outcome=None)
        )
        ticks: list[float] = []
        for round_ in range(rounds):
            if round_:
                with engine.begin() as conn:
                    conn.execute(again)
            items = 0
            while items < DUE:
                taken, ms = tick(service)
                assert taken, f"round {round_} ran dry after {items} of {DUE}"
                ticks.append(ms)
                items += taken
            assert items == DUE, f"swept {items}, expected {DUE}"
        idle = [tick(service) for _ in range(IDLE_TICKS)]
        assert all(taken == 0 for taken, _ in idle), "an idle tick found work"
        with engine.connect() as conn:
            sent = conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
        assert sent == 2 * (rounds * DUE + batch), f"{sent} outbox rows"
        idle_ms = statistics.median(ms for _, ms in idle)
        return Result(backend, n, batch, ticks, rounds, idle_ms, seed_s)
    finally:
        engine.dispose()


@contextmanager
def scratch_url(backend: str) -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="sweep_bench_") as tmp:
        if backend == "sqlite":
            yield f"sqlite:///{tmp}/bench.db", Path(tmp)
            return
        name = f"schoolbot_bench_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False), Path(tmp)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}'"
                )
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            admin.dispose()


def report(results: list[Result]) -> bool:
    head = (
        f"{'backend':<11}{'stored':>10}{'reminders':>11}{'due':>6}{'batch':>6}{'ticks':>6}"
        f"{'first ms':>10}{'mean ms':>9}{'p50 ms':>8}{'max ms':>8}{'total ms':>10}{'µs/item':>9}"
        f"{'idle ms':>9}{'seed s':>8}"
    )
    print(head, "-" * len(head), sep="\n")
    for r in results:
        total = sum(r.ticks) / r.rounds
        print(
            f"{r.backend:<11}{r.stored:>10,}{3 * r.stored:>11,}{DUE:>6}{r.batch:>6}"
            f"{len(r.ticks) / r.rounds:>6.0f}{r.ticks[0]:>10.1f}{r.mean:>9.1f}"
            f"{statistics.median(r.ticks):>8.1f}{max(r.ticks):>8.1f}{total:>10.1f}"
            f"{total * 1000 / DUE:>9.0f}{r.idle_ms:>9.2f}{r.seed_s:>8.1f}"
        )
    print()
    ok = True
    for backend in dict.fromkeys(r.backend for r in results):
        mine = sorted((r for r in results if r.backend == backend), key=lambda r: r.stored)
        small, big = mine[0], mine[-1]
        worst = max(big.ticks)
        verdicts = [
            (worst <= TICK_TARGET_MS,
             f"max tick at {big.stored:,} = {worst:.1f} ms (target <= {TICK_TARGET_MS:.0f} ms)"),
            (big.mean <= RATIO_TARGET * small.mean,
             f"mean tick {big.stored:,} / {small.stored:,} = {big.mean / small.mean:.2f}x "
             f"(target <= {RATIO_TARGET:.0f}x)"),
        ]  # fmt: skip
        for passed, text in verdicts:
            ok &= passed
            print(f"{'PASS' if passed else 'FAIL'}  {backend:<11}{text}")
    if max(r.stored for r in results) < 1_000_000:
        print("(the issue's targets are for 1M stored comments: run the full sizes to check them)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="stored comments")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, help="reminders per tick (default: the service's)")
    parser.add_argument("--rounds", type=int, default=3, help="times the 1k fall due")
    args = parser.parse_args()
    if (args.batch is not None and args.batch < 1) or args.rounds < 1:
        parser.error("--batch and --rounds must be at least 1")
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    if unknown := set(backends) - {"sqlite", "postgresql"}:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    results: list[Result] = []
    for backend in backends:
        for n in sizes:
            with scratch_url(backend) as (url, tmp):
                print(f"{backend}: {n:,} comments ...", file=sys.stderr, flush=True)
                results.append(measure(url, backend, n, args.batch, args.rounds, tmp))
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
