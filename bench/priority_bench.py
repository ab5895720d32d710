"""Urgent first: how long an urgent alert waits behind the yearly reminder to every member
of staff, on Slack and on Teams, with outbox priorities and without them (FIFO, the order
before issue 26), on SQLite and PostgreSQL.

Each row starts our real app (create_app, pack dukeries-academy) with one platform on,
against that platform's local fake with its documented rate limits enforced:
  Slack (tests/fakes/fake_slack.py): chat.postMessage 1 a second per channel with short
    bursts, and a workspace-wide limit; over it, 429 with Retry-After: 1.
  Teams (tests/fakes/fake_connector.py): per conversation 7 in 1 s, 8 in 2 s, 60 in 30 s,
    1,800 an hour; 50 requests a second per app per tenant; over any, 429 + Retry-After: 1.
With a backlog, the yearly reminder to 5,000 staff is queued first (one DM each) and has
been draining for a few seconds; then a member of staff reports a threat to a pupil by DM
("someone says they will stab her ...", "A pupil", "Yes": a child is in danger now), which
queues an urgent alert to the DSL channel. The delay runs from the answer to "is a child
in danger right now?" being accepted (the platform's 200) to the fake receiving the alert
in the DSL channel.

  priorities: claims by priority then age; bulk sends paced (1 a second on Slack, 7 on Teams)
  FIFO:       claims oldest first, bulk unpaced: the baseline, in the same run

Run from the repo root:  .venv/bin/python bench/priority_bench.py  (see --help; about 4 min)
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp.test_utils import TestServer
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.dispatch import BotService  # noqa: E402
from bot.domain.policy import load_pack  # noqa: E402
from bot.kernel.evidence_folder import FolderEvidenceStore  # noqa: E402
from bot.platforms import PLATFORM_TITLES  # noqa: E402
from bot.platforms.slack.adapter import SlackAdapter  # noqa: E402
from bot.platforms.teams import store as teams_store  # noqa: E402
from bot.platforms.teams.adapter import TeamsAdapter  # noqa: E402
from bot.storage import db, scheduling  # noqa: E402
from bot.storage.tables import DialogState, RoleAssignment  # noqa: E402
from tests.fakes.fake_connector import APP_ID, TENANT, FakeConnector, TeamsLimits  # noqa: E402
from tests.fakes.fake_slack import BOT_TOKEN, FakeSlack, RateLimits  # noqa: E402
from tests.fakes.slack_harness import DSL_CHANNEL, SECRET, SLT_CHANNEL, Bot  # noqa: E402
from tests.fakes.teams_client import TeamsClient, channel_id, install_in_team  # noqa: E402
from tests.helpers import fresh_postgres, postgres_problem  # noqa: E402

TARGET_SECONDS = 2.0
REPORT = ("someone says they will stab her at the bus stop tomorrow", "A pupil", "Yes")
ALERT = "CB-0001"


@dataclass
class Side:
    """One platform's part of a row: how the reporter answers, what the fake received."""

    reporter: str  # the reporter's user id in the bot (DialogState's key)
    answer: Callable[[str], Awaitable[int]]  # send one DM; the HTTP status
    alert_posted: Callable[[], bool]
    bulk_posted: Callable[[], int]
    limited: Callable[[], int]
    service_url: str = ""  # Teams: the connector's address, for the staff's chats


def staff_ids(platform: str, staff: int) -> list[str]:
    return [f"U{n:05d}" if platform == "slack" else f"aad-u{n:05d}" for n in range(staff)]


def seed(service: BotService, platform: str, staff: int) -> None:
    """`staff` people the bot knows, a DSL, and the yearly reminder to all of them queued."""
    now = service.kernel.now()
    dsl = "UDSL" if platform == "slack" else "aad-dsl"
    people = [(user, "moderator") for user in staff_ids(platform, staff)] + [(dsl, "dsl")]
    rows = [
        {"platform": platform, "user_id": user, "role": role, "added_by": "bench",
         "added_at": now} for user, role in people
    ]  # fmt: skip
    with service.kernel.session() as session:
        session.execute(sa.insert(RoleAssignment.__table__), rows)  # type: ignore[attr-defined]
        if staff:
            scheduling.schedule(session, f"annual:{now.year}", "annual", now)
        session.commit()


def teams_chats(service: BotService, service_url: str, staff: int) -> None:
    """Each member of staff's personal chat with the bot, as Teams gave it on install."""
    bot = ChannelAccount(id=f"28:{APP_ID}", name="schoolbot")
    references = {}
    for user in [*staff_ids("teams", staff), "aad-dsl"]:
        name = user.removeprefix("aad-")
        references[f"user:{user}"] = ConversationReference(
            channel_id="msteams",
            service_url=service_url,
            bot=bot,
            user=ChannelAccount(id=f"29:{name}", aad_object_id=user),
            conversation=ConversationAccount(
                id=f"a:personal-{name}", conversation_type="personal", tenant_id=TENANT
            ),
        ).serialize()
    teams_store.put_many(service.kernel, references, [])


@contextlib.asynccontextmanager
async def slack_side(service: BotService, fifo: bool) -> AsyncIterator[Side]:
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
    if fifo:
        app[SlackAdapter.APP_KEY].sends.bulk_gap = 0.0  # the baseline: bulk unpaced
    server = TestServer(app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            bot = Bot(server, service, fake, http)

            async def answer(text: str) -> int:
                return (await bot.dm("UREPORTER", text)).status

            def posts(channel_wanted: bool) -> list[dict]:
                return [
                    c.args
                    for c in fake.calls
                    if c.method == "chat.postMessage"
                    and c.response
                    and (c.args.get("channel") == DSL_CHANNEL) == channel_wanted
                ]

            yield Side(
                "UREPORTER",
                answer,
                lambda: any(ALERT in json.dumps(args) for args in posts(True)),
                lambda: len(posts(False)),
                lambda: fake.limited,
            )
    finally:
        await server.close()
        await fake.close()


@contextlib.asynccontextmanager
async def teams_side(service: BotService, fifo: bool) -> AsyncIterator[Side]:
    fake = FakeConnector(limits=TeamsLimits()).start()
    settings = Settings(
        _env_file=None,
        **fake.settings,
        TEAMS_DSL_CHANNEL=channel_id("dsl"),
        SCHOOLBOT_DATA_DIR=tempfile.mkdtemp(),
    )
    app = create_app(service, settings)
    if fifo:
        app[TeamsAdapter.APP_KEY].sends.bulk_gap = 0.0  # the baseline: bulk unpaced
    server = TestServer(app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            teams = TeamsClient(server, service, fake, http)
            await install_in_team(teams)

            async def answer(text: str) -> int:
                return (await teams.post(teams.activity("reporter", text))).status

            def alert_posted() -> bool:
                return any(
                    c.kind == "create"
                    and c.conversation.startswith(channel_id("dsl"))
                    and ALERT in json.dumps(c.activity)
                    for c in fake.called()
                )

            def bulk_posted() -> int:
                return sum(1 for c in fake.called() if c.conversation.startswith("a:personal-u"))

            yield Side(
                "aad-reporter", answer, alert_posted, bulk_posted, lambda: fake.limited,
                fake.base_url,
            )  # fmt: skip
    finally:
        await server.close()
        fake.close()


SIDES = {"slack": slack_side, "teams": teams_side}


async def turns_saved(service: BotService, platform: str, user: str) -> int:
    def read() -> int:
        with service.kernel.session() as session:
            row = session.get(DialogState, (session.school_id, platform, user))
            return row.version if row else 0

    return await asyncio.to_thread(read)


async def one_row(
    url: str, platform: str, staff: int, *, priorities: bool, cap: float
) -> dict[str, object]:
    db.upgrade(url)
    service = BotService(
        db.make_engine(url),
        load_pack("dukeries-academy"),
        FolderEvidenceStore(Path(tempfile.mkdtemp()) / "evidence"),
        platform_titles=PLATFORM_TITLES,
    )
    service.outbox.by_priority = priorities
    await asyncio.to_thread(seed, service, platform, staff)
    try:
        async with SIDES[platform](service, fifo=not priorities) as side:
            if platform == "teams":
                await asyncio.to_thread(teams_chats, service, side.service_url, staff)
            if staff:
                await asyncio.to_thread(service.sweep)  # the yearly reminder: a DM each
            await asyncio.sleep(3 if staff else 0.5)  # the reminders are draining
            before = side.bulk_posted()
            for n, text in enumerate(REPORT, start=1):
                status = await side.answer(text)
                assert status == 200, status
                accepted = time.monotonic()
                if n < len(REPORT):
                    async with asyncio.timeout(60):
                        while await turns_saved(service, platform, side.reporter) < n:
                            await asyncio.sleep(0.01)
            delay: float | None = None
            while time.monotonic() < accepted + cap:
                if side.alert_posted():
                    delay = time.monotonic() - accepted
                    break
                await asyncio.sleep(0.005)
            during = side.bulk_posted() - before
            return {"delay": delay, "bulk_sent_meanwhile": during, "limited": side.limited()}
    finally:
        service.engine.dispose()


@contextlib.contextmanager
def database(kind: str, folder: Path, n: int) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'bench{n}.db'}"
        return
    yield from fresh_postgres()


def seconds(value: object, cap: float) -> str:
    return f"> {cap:.0f} s (not posted)" if value is None else f"{float(value):.2f} s"  # type: ignore[arg-type]


async def main() -> None:
    logging.disable(logging.ERROR)  # a line per refused reminder: the table says it all
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--staff", type=int, default=5000, help="the yearly reminder's reach")
    parser.add_argument("--cap", type=float, default=20.0, help="give up on a row after (s)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--platforms", default="slack,teams")
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
        for platform in args.platforms.split(","):
            for kind in kinds:
                for backlog in (0, args.staff):
                    row: dict[str, object] = {
                        "platform": platform, "database": kind, "backlog": backlog
                    }  # fmt: skip
                    for priorities in (False, True):
                        n += 1
                        with database(kind, Path(tmp), n) as url:
                            got = await one_row(
                                url, platform, backlog, priorities=priorities, cap=args.cap
                            )
                        name = "priorities" if priorities else "fifo"
                        row[name] = got["delay"]
                        row[f"{name}_limited"] = got["limited"]
                        row[f"{name}_bulk"] = got["bulk_sent_meanwhile"]
                        print(f"  {platform:6} {kind:10} backlog {backlog:5}  {name:10} "
                              f"{seconds(got['delay'], args.cap)}  (429s: {got['limited']}, "
                              f"bulk sent meanwhile: {got['bulk_sent_meanwhile']})",
                              flush=True)  # fmt: skip
                    results.append(row)
    print()
    header = ("platform", "database", "backlog", "baseline FIFO", "priorities", "target",
              "met", "429s FIFO/prio")  # fmt: skip
    widths = (8, 10, 7, 22, 12, 8, 4, 14)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in results:
        fast = row["priorities"]
        met = fast is not None and float(fast) <= TARGET_SECONDS  # type: ignore[arg-type]
        cells = (
            str(row["platform"]),
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
