"""Slack ack-latency benchmark: schoolbot against a bare slack-bolt app that only acks.

Sends signed `message.im` events (JSON `event_callback` DMs from 200 users, each walking
through "a pupil sent me a friend request") and `block_actions` clicks (form-encoded
`payload=`: the menu button, then the answer buttons `choice:<step>:<i>`) open-loop at fixed
rates (default 50, 200, 500 requests/s, 20 s each) to `POST /slack/events` of two servers,
each in its own process, while the load generator runs in this one:

* schoolbot: the real `schoolbot run` on SQLite in a temp data dir, whose Slack Web API
  calls go to the fake Slack of `tests/fakes/fake_slack.py` (a third process);
* bare: aiohttp + slack-bolt AsyncApp mounted the same way, whose handlers only ack.

Request i is due at t0 + i/rate and sent then, whatever earlier requests are doing; its
latency runs from that scheduled time to the end of the response, so queueing anywhere
counts. Failures (non-2xx, 10 s timeouts) count in p50/p99 with the time they took. Each
request is signed afresh with the current timestamp. ok/s: 2xx per second from t0 to the
last response. After each schoolbot row the script waits for the bot's after-ack work (its
replies to the fake Slack): "drain s" is how long that ran on after the last ack, "done/s"
is ok / (row time + drain), "slack calls" the Web API calls it made, "log errors" its new
ERROR lines, "peak MB" each server's peak resident memory so far. Then a closed-loop
probe (64 workers, 10 s) gives each server's maximum ack rate.

Run from the repo root:  .venv/bin/python bench/slack_bench.py  (see --help)
It takes 6-10 minutes with the defaults (12 rows of 20 s, plus 4 probes of 10 s, plus the
time schoolbot needs to drain); `--seconds 3 --rates 50,200` takes about 2 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.fakes.fake_slack import BOT_TOKEN  # noqa: E402

SECRET = "bench-signing-secret"
USERS = 200
KINDS = ("message.im", "block_actions")
DM_SCRIPT = ("a pupil sent me a friend request", "no", "instagram", "no", "no", "my cases")
CLICKS = (  # (step, button index, value): the menu button, then each answer of the dialog
    ("", 0, "friend_request"),
    ("friend_request.sender", 0, "current_pupil"),
    ("friend_request.family", 1, "no"),
    ("friend_request.platform", 1, "instagram"),
    ("friend_request.accepted", 1, "no"),
    ("friend_request.concerning", 1, "no"),
)


# --- servers (child processes) -------------------------------------------------------------


def watch_parent() -> None:
    """Children exit when the benchmark does, even if it was killed outright."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


async def serve_forever(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def serve_fake(port: int) -> None:
    """The fake Slack Web API, plus GET /stats on `port` with its URL and a call count."""
    from tests.fakes.fake_slack import FakeSlack

    fake = await FakeSlack().start()
    seen = [0]

    async def stats(_: web.Request) -> web.Response:
        seen[0] += len(fake.calls)
        fake.calls.clear()  # only the count matters here; keeps memory flat
        return web.json_response({"api_url": fake.api_url, "calls": seen[0]})

    app = web.Application()
    app.router.add_get("/stats", stats)
    await serve_forever(app, port)


async def serve_bare(port: int, api_url: str) -> None:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    # Same client setup as schoolbot: its one lazy auth.test goes to the fake Slack.
    bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(BOT_TOKEN, base_url=api_url))

    async def only_ack(ack: Any) -> None:
        await ack()

    bolt.event("message")(only_ack)
    bolt.action(re.compile(".*"))(only_ack)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    await serve_forever(app, port)


def serve(role: str, port: int, api_url: str) -> None:
    watch_parent()
    if role == "schoolbot":  # exactly `schoolbot run`, configured by the environment
        from bot.cli import main

        main(["run"])
    elif role == "fake":
        asyncio.run(serve_fake(port))
    else:
        asyncio.run(serve_bare(port, api_url))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One server in its own process (this script again, with --serve ROLE)."""

    def __init__(self, role: str, tmp: Path, env: dict[str, str], api_url: str = ""):
        self.role, self.port, self.log = role, free_port(), tmp / f"{role}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                role,
                f"--port={self.port}",
                f"--api-url={api_url}",
            ],
            env={**os.environ, **env, "SCHOOLBOT_PORT": str(self.port)},
            cwd=tmp,  # so no stray .env is read
            stdin=subprocess.DEVNULL,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us, and we stop the children
        )

    async def ready(self, http: aiohttp.ClientSession, path: str) -> Any:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                async with http.get(self.url + path) as response:
                    if response.status == 200:
                        return await response.json()
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{self.role} did not start (log {self.log}):\n{tail}")

    def peak_mb(self) -> str:
        """The process's peak resident memory so far (Linux), or '-' where unknown."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return "-"
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        return f"{int(found.group(1)) / 1024:.0f}" if found else "-"

    def log_errors(self) -> list[str]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if " ERROR " in line or line.startswith("Traceback")]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.output.close()


# --- load ----------------------------------------------------------------------------------


class Load:
    """Builds, signs and sends realistic Slack requests; each user's requests follow a script."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http, self.verifier = http, SignatureVerifier(SECRET)
        self.count = dict.fromkeys(KINDS, 0)

    def request(self, kind: str) -> tuple[bytes, dict[str, str]]:
        n, now = self.count[kind], time.time()
        self.count[kind] += 1
        turn, user_no = divmod(n, USERS)
        if kind == "message.im":
            user = f"UDM{user_no:04d}"
            event = {
                "type": "message",
                "channel_type": "im",
                "user": user,
                "channel": f"D{user}",
                "text": DM_SCRIPT[turn % len(DM_SCRIPT)],
                "ts": f"{now:.6f}",
                "event_ts": f"{now:.6f}",
            }
            body = json.dumps(
                {
                    "type": "event_callback",
                    "team_id": "T1",
                    "api_app_id": "A1",
                    "event_id": f"Ev{os.getpid()}x{n:08d}",
                    "event_time": int(now),
                    "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
                    "event": event,
                }
            )
            content_type = "application/json"
        else:
            user, (step, index, value) = f"UBA{user_no:04d}", CLICKS[turn % len(CLICKS)]
            ts = f"1700000000.{n:06d}"
            button = {"action_id": f"choice:{step}:{index}", "value": value, "type": "button"}
            payload = {
                "type": "block_actions",
                "user": {"id": user, "username": user.lower(), "team_id": "T1"},
                "team": {"id": "T1", "domain": "school"},
                "api_app_id": "A1",
                "trigger_id": f"{n}.1.bench",
                "channel": {"id": f"D{user}", "name": "directmessage"},
                "container": {"type": "message", "message_ts": ts, "channel_id": f"D{user}"},
                "message": {"ts": ts, "type": "message", "user": "UBOT"},
                "actions": [{**button, "block_id": "answers", "action_ts": f"{now:.6f}"}],
            }
            body = urlencode({"payload": json.dumps(payload)})
            content_type = "application/x-www-form-urlencoded"
        stamp = str(int(now))
        signature = self.verifier.generate_signature(timestamp=stamp, body=body)
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}
        return body.encode(), {"Content-Type": content_type, **headers}

    async def send(self, url: str, kind: str, due: float) -> tuple[int, float, float]:
        """One request: (status, 0 for a transport error or timeout; latency from `due`; end)."""
        body, headers = self.request(kind)
        status = 0
        try:
            async with self.http.post(url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            pass
        end = time.perf_counter()
        return status, end - due, end

    async def open_loop(self, url: str, kind: str, rate: int, seconds: float) -> Row:
        """Request i is due at start + i/rate and sent then, whatever earlier ones are doing."""
        tasks = []
        start = time.perf_counter() + 0.05
        for i in range(int(rate * seconds)):
            due = start + i / rate
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.send(url, kind, due)))
        return Row(kind, str(rate), await asyncio.gather(*tasks), start)

    async def closed_loop(self, url: str, kind: str, workers: int, seconds: float) -> Row:
        results: list[tuple[int, float, float]] = []
        start = time.perf_counter()

        async def worker() -> None:
            while (now := time.perf_counter()) < start + seconds:
                results.append(await self.send(url, kind, now))

        await asyncio.gather(*(worker() for _ in range(workers)))
        return Row(kind, f"max/{workers}w", results, start)

    async def fake_calls(self, stats_url: str) -> int:
        async with self.http.get(stats_url) as response:
            return int((await response.json())["calls"])

    async def drain(self, stats_url: str, target: int) -> tuple[int, float]:
        """Wait for schoolbot's after-ack work: every handled request posts at least one
        reply, so wait for `target` calls to the fake Slack and then 1 s without any (or 15 s
        without any below target: stuck). Returns (calls, seconds until the last call)."""
        start = last_change = time.perf_counter()
        calls = -1
        while time.perf_counter() - start < 600:
            if (now_calls := await self.fake_calls(stats_url)) != calls:
                calls, last_change = now_calls, time.perf_counter()
            elif time.perf_counter() - last_change >= (1 if calls >= target else 15):
                break
            await asyncio.sleep(0.1)
        return calls, last_change - start


class Row:
    def __init__(self, kind: str, rate: str, results: list[tuple[int, float, float]], t0: float):
        self.kind, self.rate, self.server, self.sent = kind, rate, "", len(results)
        self.ok = sum(200 <= status < 300 for status, _, _ in results)
        self.latencies = sorted(latency for _, latency, _ in results)
        self.seconds = max((end for _, _, end in results), default=t0) - t0
        self.drain = self.slack_calls = self.log_errors = self.peak_mb = "-"

    def pct(self, q: float) -> float:
        if not self.latencies:
            return math.nan
        return self.latencies[max(0, math.ceil(q * len(self.latencies)) - 1)] * 1000

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


# --- the run -------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [["kind", "server", "rps", "sent", "ok", "errors", "p50 ms", "p99 ms", "ok/s"]]
    lines[0] += ["drain s", "done/s", "slack calls", "log errors", "peak MB"]
    for r in rows:
        lines.append([r.kind, r.server, r.rate, str(r.sent), str(r.ok), str(r.sent - r.ok)])
        lines[-1] += [f"{r.pct(0.5):.1f}", f"{r.pct(0.99):.1f}", f"{r.throughput:.0f}"]
        done = r.ok / (r.seconds + float(r.drain)) if r.drain != "-" else r.throughput
        lines[-1] += [r.drain, f"{done:.0f}", r.slack_calls, r.log_errors, r.peak_mb]
    widths = [max(map(len, column)) for column in zip(*lines, strict=True)]
    out = [
        "  ".join(
            f"{c:{'<' if i < 2 else '>'}{w}}"
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    return "\n".join([out[0], "-" * len(out[0]), *out[1:]])


def verdicts(rows: list[Row], kinds: list[str]) -> list[str]:
    lines = []
    for kind in kinds:
        row = next(
            (r for r in rows if (r.kind, r.server, r.rate) == (kind, "schoolbot", "200")), None
        )
        if row is None:
            lines.append(f"----  {kind}: p99 at 200 rps not measured (add 200 to --rates)")
        else:
            good = row.pct(0.99) <= 50 and row.ok == row.sent
            lines.append(
                f"{'PASS' if good else 'FAIL'}  {kind}: schoolbot p99 ack at 200 rps "
                f"{row.pct(0.99):.1f} ms, {row.sent - row.ok} errors (target <= 50 ms, no errors)"
            )
        probe = {
            r.server: r.throughput for r in rows if r.kind == kind and r.rate.startswith("max")
        }
        if probe.get("bare") and "schoolbot" in probe:
            ratio = probe["schoolbot"] / probe["bare"]
            lines.append(
                f"{'PASS' if ratio >= 0.5 else 'FAIL'}  {kind}: max ack throughput schoolbot "
                f"{probe['schoolbot']:.0f}/s vs bare {probe['bare']:.0f}/s = {ratio:.0%} (target >= 50%)"
            )
    return lines


async def bench(args: argparse.Namespace, tmp: Path, servers: list[Server]) -> None:
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    if unknown := set(kinds) - set(KINDS):
        raise SystemExit(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
    timeout = aiohttp.ClientTimeout(total=10)  # Slack itself gives up after 3 s
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=2000), timeout=timeout
    ) as http:
        servers.append(fake := Server("fake", tmp, {}))
        api_url = (await fake.ready(http, "/stats"))["api_url"]
        env = {  # SQLite in a fresh data dir, HTTP mode, Web API calls to the fake Slack
            "SCHOOLBOT_DATA_DIR": str(tmp / "data"),
            "DATABASE_URL": "",
            "SCHOOLBOT_POLICY": "default",
            "SCHOOLBOT_HOST": "127.0.0.1",
            "SCHOOLBOT_LOG_LEVEL": "WARNING",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_APP_TOKEN": "",
            "SLACK_API_URL": api_url,
            "SLACK_DSL_CHANNEL": "CDSL",
            "SLACK_SLT_CHANNEL": "CSLT",
        }
        servers.append(ours := Server("schoolbot", tmp, env))
        servers.append(bare := Server("bare", tmp, {}, api_url))
        for server in (ours, bare):
            await server.ready(http, "/healthz")
        print(f"servers up (logs in {tmp}); warming up", file=sys.stderr)
        load, rows = Load(http), []
        for kind in kinds:
            for server in (ours, bare):
                await load.closed_loop(server.url + "/slack/events", kind, 4, 1.0)
        stats_url = fake.url + "/stats"
        await load.drain(stats_url, 0)
        plan = [(k, r) for k in kinds for r in rates] + [(k, None) for k in kinds]
        for (kind, rate), server in itertools.product(plan, (ours, bare)):
            calls_before, errors_before = await load.fake_calls(stats_url), server.log_errors()
            url = server.url + "/slack/events"
            if rate:
                row = await load.open_loop(url, kind, rate, args.seconds)
            else:
                row = await load.closed_loop(url, kind, args.workers, args.max_probe_seconds)
            row.server = server.role
            if server is ours:
                calls, seconds = await load.drain(stats_url, calls_before + row.ok)
                row.drain, row.slack_calls = f"{seconds:.1f}", str(calls - calls_before)
                row.log_errors = str(len(server.log_errors()) - len(errors_before))
            row.peak_mb = server.peak_mb()
            rows.append(row)
            p99 = f"p99 {row.pct(0.99):.1f} ms, {row.sent - row.ok} errors"
            print(f"  {kind:13} {server.role:9} {row.rate:>7}: {p99}", file=sys.stderr)
        if errors := ours.log_errors():  # the first few distinct ones, without timestamps
            distinct = dict.fromkeys(line.partition(" ERROR ")[2] or line for line in errors)
            print(f"schoolbot logged {len(errors)} errors, e.g.:", *list(distinct)[:5], sep="\n  ")
    print(f"\n{table(rows)}\n")
    print("\n".join(verdicts(rows, kinds)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per row (default 20)")
    parser.add_argument("--rates", default="50,200,500", help="requests/s (default 50,200,500)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="default: both")
    parser.add_argument("--max-probe-seconds", type=float, default=10.0, help="default 10")
    parser.add_argument("--workers", type=int, default=64, help="closed-loop probe (default 64)")
    parser.add_argument("--serve", choices=["schoolbot", "fake", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port, args.api_url)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="slack-bench-") as tmp:
        try:
            asyncio.run(bench(args, Path(tmp), servers))
        except KeyboardInterrupt:
            sys.exit("interrupted")
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
