"""Urgent first: how long an urgent alert waits behind the yearly reminder to every member
of staff, with outbox priorities and without them (FIFO, the order before issue 26).

Each row starts our real app (create_app with Slack on, HTTP mode, pack dukeries-academy)
against the fake Slack of tests/fakes/fake_slack.py with Slack's rate limits enforced
(chat.postMessage: 1 a second per channel with short bursts, and a workspace-wide limit;
over it, 429 with Retry-After: 1). With a backlog, the yearly reminder to 5,000 staff is
queued first and has been draining for a few seconds; then a member of staff reports a
threat to a pupil by DM ("someone says they will stab her ...", "A pupil", "Yes": a child
is in danger now), which queues an urgent alert to the DSL channel. The delay runs from
the answer to "is a child in danger right now?" being accepted (Slack's 200) to the fake
Slack receiving the alert in the DSL channel.

  priorities: claims by priority then age; bulk sends paced (1 a second on Slack)
  FIFO:       claims oldest first, bulk unpaced: the baseline, in the same run

Run from the repo root:  .venv/bin/python bench/priority_bench.py  (see --help)
PostgreSQL rows need the test server (TEST_DATABASE_URL, default 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.dispatch import BotService  # noqa: E402
from bot.domain.policy import load_pack  # noqa: E402
from bot.kernel.evidence_store import EvidenceStore  # noqa: E402
from bot.platforms import PLATFORM_TITLES  # noqa: E402
from bot.platforms.slack.adapter import SlackAdapter  # noqa: E402
from bot.storage import db, scheduling  # noqa: E402
from bot.storage.tables import DialogState, RoleAssignment  # noqa: E402
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack, RateLimits  # noqa: E402
from tests.fakes.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL, Bot  # noqa: E402
from tests.helpers import fresh_postgres, postgres_problem  # noqa: E402

TARGET_SECONDS = 2.0
REPORTER = "UREPORTER"
REPORT = ("someone says they will stab her at the bus stop tomorrow", "A pupil", "Yes")


def seed(service: BotService, staff: int) -> None:
    """`staff` people the bot knows, a DSL, and the yearly reminder to all of them queued."""
    now = service.kernel.now()
    rows = [
        {"platform": "slack", "user_id": f"U{n:05d}", "role": "moderator", "added_by": "bench",
         "added_at": now} for n in range(staff)
    ] + [{"platform": "slack", "user_id": "UDSL", "role": "dsl", "added_by": "bench",
          "added_at": now}]  # fmt: skip
    with service.kernel.session() as session:
        session.execute(sa.insert(RoleAssignment.__table__), rows)  # type: ignore[attr-defined]
        if staff:
            scheduling.schedule(session, f"annual:{now.year}", "annual", now)
        session.commit()
    if staff:
        service.sweep()  # the yearly reminder: one bulk send per person


async def turns_saved(service: BotService) -> int:
    def read() -> int:
        with service.kernel.session() as session:
            row = session.get(DialogState, ("slack", REPORTER))
            return row.version if row else 0

    return await asyncio.to_thread(read)


async def one_row(url: str, staff: int, *, priorities: bool, cap: float) -> dict[str, object]:
    db.upgrade(url)
    service = BotService(
        db.make_engine(url),
        load_pack("dukeries-academy"),
        EvidenceStore(Path(tempfile.mkdtemp()) / "evidence"),
        platform_titles=PLATFORM_TITLES,
    )
    service.outbox.by_priority = priorities
    await asyncio.to_thread(seed, service, staff)
    fake = await FakeSlack(limits=RateLimits()).start()
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        SLACK_DSL_CHANNEL=DSL_CHANNEL,
        SLACK_SLT_CHANNEL=SLT_CHANNEL,
        SCHOOLBOT_DATA_DIR=tempfile.mkdtemp(),
    )
    app = create_app(service, settings)
    if not priorities:
        app[SlackAdapter.APP_KEY].sends.bulk_gap = 0.0  # the baseline: bulk unpaced
    server = TestServer(app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            bot = Bot(server, service, fake, http)
            await asyncio.sleep(3 if staff else 0.5)  # the reminders are draining
            before = fake_posts(fake, exclude=(DSL_CHANNEL,))
            for n, text in enumerate(REPORT, start=1):
                response = await bot.dm(REPORTER, text)
                assert response.status == 200, response.status
                accepted = time.monotonic()
                if n < len(REPORT):
                    async with asyncio.timeout(60):
                        while await turns_saved(service) < n:
                            await asyncio.sleep(0.01)
            delay: float | None = None
            while time.monotonic() < accepted + cap:
                if alert_posted(fake):
                    delay = time.monotonic() - accepted
                    break
                await asyncio.sleep(0.005)
            during = fake_posts(fake, exclude=(DSL_CHANNEL,)) - before
            return {"delay": delay, "bulk_sent_meanwhile": during, "limited": fake.limited}
    finally:
        await server.close()
        await fake.close()
        service.engine.dispose()


def fake_posts(fake: FakeSlack, exclude: tuple[str, ...]) -> int:
    return sum(
        1
        for c in fake.calls
        if c.method == "chat.postMessage" and c.response and c.args.get("channel") not in exclude
    )


def alert_posted(fake: FakeSlack) -> bool:
    return any(
        call.method == "chat.postMessage"
        and call.response
        and call.args.get("channel") == DSL_CHANNEL
        and "CB-0001" in json.dumps(call.args)
        for call in fake.calls
    )


@contextlib.contextmanager
def database(kind: str, folder: Path, n: int) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'bench{n}.db'}"
        return
    yield from fresh_postgres()


def seconds(value: object, cap: float) -> str:
    return f"> {cap:.0f} s (not posted)" if value is None else f"{float(value):.2f} s"  # type: ignore[arg-type]


async def main() -> None:
    logging.disable(logging.WARNING)  # a 429 per refused reminder: the table says it all
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--staff", type=int, default=5000, help="the yearly reminder's reach")
    parser.add_argument("--cap", type=float, default=90.0, help="give up on a row after (s)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    kinds = args.databases.split(",")
    if "postgresql" in kinds and (problem := postgres_problem()):
        print(f"skipping PostgreSQL: {problem}")
        kinds.remove("postgresql")
    print(f"priority bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: urgent alert delay after "
          f"the report's last answer; target <= {TARGET_SECONDS:.0f} s with a backlog")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for kind in kinds:
            for backlog in (0, args.staff):
                row: dict[str, object] = {"database": kind, "backlog": backlog}
                for priorities in (False, True):
                    n += 1
                    with database(kind, Path(tmp), n) as url:
                        got = await one_row(url, backlog, priorities=priorities, cap=args.cap)
                    name = "priorities" if priorities else "fifo"
                    row[name] = got["delay"]
                    row[f"{name}_limited"] = got["limited"]
                    row[f"{name}_bulk"] = got["bulk_sent_meanwhile"]
                    print(f"  {kind:10} backlog {backlog:5}  {name:10} {seconds(got['delay'], args.cap)}"
                          f"  (429s: {got['limited']})", flush=True)  # fmt: skip
                results.append(row)
    print()
    header = (
        "database",
        "backlog",
        "baseline FIFO",
        "priorities",
        "target",
        "met",
        "429s FIFO/prio",
    )
    widths = (10, 7, 22, 12, 8, 4, 14)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in results:
        fast = row["priorities"]
        met = fast is not None and float(fast) <= TARGET_SECONDS  # type: ignore[arg-type]
        cells = (
            str(row["database"]),
            str(row["backlog"]),
            seconds(row["fifo"], args.cap),
            seconds(fast, args.cap),
            f"<= {TARGET_SECONDS:.0f} s",
            "yes" if met else "NO",
            f"{row['fifo_limited']}/{row['priorities_limited']}",
        )
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))


if __name__ == "__main__":
    asyncio.run(main())
