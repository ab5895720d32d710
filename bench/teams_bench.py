"""Teams endpoint benchmark: schoolbot's POST /api/messages beside a bare botbuilder echo bot.

Run (from the repository root, after `make test` or `make run` created .venv):

    .venv/bin/python bench/teams_bench.py                # 20 s per row (the real run)
    .venv/bin/python bench/teams_bench.py --seconds 3    # a quick trial

It starts, each in its own process: a sink playing the Bot Connector (the activities'
serviceUrl; it answers replies like the real service), schoolbot (SQLite in a temporary
directory, Teams in anonymous loopback mode, so no tokens), a bare echo bot
(`ActivityHandler` on botbuilder's CloudAdapter, also anonymous), and the load generator.
Rows: message activities ("hello", a greeting card back) and card submits (Action.Submit
data answering a question; each reply is a card), offered at a fixed 50 and 200 requests/s
(open loop: latency counts from the scheduled send, so a stall is not hidden), then a
"max" row with 32 clients sending back to back, which measures throughput. Users rotate
over a pool of 500 so per-user state is realistic. Latency is until our HTTP response,
which comes after the reply was accepted by the connector (Bot Framework's usual flow).

Targets (issue 4): p99 <= 75 ms at 200 rps, and >= 50% of the bare bot's max throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
USERS = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the processes -----------------------------------------------------------------------


def serve_sink(port: int) -> None:
    """The Bot Connector as far as replies go: accept and give each an id."""
    from aiohttp import web

    ids = itertools.count(1)

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": str(next(ids))})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", accept)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_schoolbot(port: int, data_dir: str) -> None:
    import logging

    from aiohttp import web

    from bot.app import create_app
    from bot.config import Settings
    from bot.runtime import build_service

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        SCHOOLBOT_DATA_DIR=data_dir,
        SCHOOLBOT_POLICY="default",
        SCHOOLBOT_HOST="127.0.0.1",
        TEAMS_ALLOW_ANONYMOUS="true",
        MicrosoftAppId="",
        MicrosoftAppPassword="",
        SLACK_BOT_TOKEN="",
    )
    app = create_app(build_service(settings), settings)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_echo(port: int) -> None:
    """The baseline: botbuilder's own CloudAdapter and an echo bot, nothing else."""
    from aiohttp import web
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""

    class Echo(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            text = turn_context.activity.text or json.dumps(turn_context.activity.value)
            await turn_context.send_activity(MessageFactory.text(f"Echo: {text}"))

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = Echo()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot) or web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- the load generator -------------------------------------------------------------------


def activity(kind: str, n: int, sink: str) -> dict[str, Any]:
    user = f"bench-{n % USERS}"
    data: dict[str, Any] = {
        "type": "message",
        "id": f"{kind}-{n}-{time.time_ns()}",
        "serviceUrl": sink,
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": user, "aadObjectId": f"aad-{user}"},
        "recipient": {"id": "28:bench-bot", "name": "schoolbot"},
        "conversation": {"id": f"a:{user}", "conversationType": "personal", "tenantId": "t"},
        "channelData": {"tenant": {"id": "t"}},
    }
    if kind == "message":
        data["text"] = "hello"
    else:  # a card submit; with no step it is read like a typed answer
        data["value"] = {"schoolbot": "choice", "step": "", "value": "friend request"}
    return data


async def load(url: str, sink: str, kind: str, rate: float, seconds: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    counter = itertools.count()

    async def one(http: aiohttp.ClientSession, scheduled: float) -> None:
        nonlocal errors
        body = json.dumps(activity(kind, next(counter), sink))
        try:
            async with http.post(
                url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                await response.read()
                ok = response.status in (200, 201)
        except aiohttp.ClientError:
            ok = False
        if ok:
            latencies.append(time.perf_counter() - scheduled)
        else:
            errors += 1

    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:
        for _ in range(20):  # warm up: first users, first connections
            await one(http, time.perf_counter())
        latencies.clear()
        errors = 0
        start = time.perf_counter()
        if rate > 0:
            tasks = []
            total = int(rate * seconds)
            for i in range(total):
                scheduled = start + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(http, scheduled)))
            await asyncio.gather(*tasks)
        else:  # closed loop: 32 clients back to back
            stop = start + seconds

            async def client() -> None:
                while time.perf_counter() < stop:
                    await one(http, time.perf_counter())

            await asyncio.gather(*(client() for _ in range(32)))
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    return {
        "p50": pct(0.50),
        "p99": pct(0.99),
        "throughput": len(latencies) / elapsed,
        "ok": len(latencies),
        "errors": errors,
    }


def run_load(url: str, sink: str, kind: str, rate: float, seconds: float) -> dict[str, Any]:
    """The generator in its own process, so it doesn't share a core's event loop with a bot."""
    out = subprocess.run(
        [sys.executable, __file__, "load", url, sink, kind, str(rate), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- orchestration ------------------------------------------------------------------------


def start(role: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft"))}
    return subprocess.Popen([sys.executable, __file__, role, str(port), *extra], cwd=ROOT, env=env)


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listening on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each row")
    args = parser.parse_args()
    sink_port, ours_port, bare_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="teams-bench-") as data_dir:
        processes = [
            start("sink", sink_port),
            start("schoolbot", ours_port, data_dir),
            start("echo", bare_port),
        ]
        try:
            for port in (sink_port, ours_port, bare_port):
                wait_up(port)
            sink = f"http://127.0.0.1:{sink_port}"
            rows = []
            for kind in ("message", "submit"):
                for rate in (50.0, 200.0, 0.0):
                    label = f"{int(rate)} rps" if rate else "max (32 clients)"
                    ours = run_load(
                        f"http://127.0.0.1:{ours_port}/api/messages", sink, kind, rate, args.seconds
                    )
                    bare = run_load(
                        f"http://127.0.0.1:{bare_port}/api/messages", sink, kind, rate, args.seconds
                    )
                    rows.append((kind, label, ours, bare))
                    print(f"  done: {kind} {label}", file=sys.stderr)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(10)
    print_table(rows, args.seconds)


def print_table(
    rows: list[tuple[str, str, dict[str, Any], dict[str, Any]]], seconds: float
) -> None:
    print(f"\nTeams /api/messages, {seconds:g} s per row (latency in ms; throughput in req/s)\n")
    header = (
        f"{'workload':9} {'offered':17} | {'schoolbot p50':>13} {'p99':>7} {'thru':>7} {'err':>4}"
        f" | {'bare p50':>8} {'p99':>7} {'thru':>7} {'err':>4} | {'vs bare':>7}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for kind, label, ours, bare in rows:
        ratio = ours["throughput"] / bare["throughput"] if bare["throughput"] else 0.0
        print(
            f"{kind:9} {label:17} | {ours['p50']:13.1f} {ours['p99']:7.1f} "
            f"{ours['throughput']:7.1f} {ours['errors']:4d} | {bare['p50']:8.1f} "
            f"{bare['p99']:7.1f} {bare['throughput']:7.1f} {bare['errors']:4d} | {ratio:6.0%}"
        )
        if label == "200 rps":
            verdicts.append(f"{kind} p99 at 200 rps: {ours['p99']:.1f} ms (target <= 75)")
        if label.startswith("max"):
            verdicts.append(f"{kind} max throughput: {ratio:.0%} of bare (target >= 50%)")
    print()
    for line in verdicts:
        print("  " + line)


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role == "sink":
        serve_sink(int(sys.argv[2]))
    elif role == "schoolbot":
        serve_schoolbot(int(sys.argv[2]), sys.argv[3])
    elif role == "echo":
        serve_echo(int(sys.argv[2]))
    elif role == "load":
        url, sink, kind, rate, seconds = sys.argv[2:7]
        print(json.dumps(asyncio.run(load(url, sink, kind, float(rate), float(seconds)))))
    else:
        main()
